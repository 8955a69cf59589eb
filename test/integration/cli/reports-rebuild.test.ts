import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOutboxEvents } from '../../../src/runtime/outbox.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { reportTables } from '../../helpers/report-tables.ts';

// `nmc reports rebuild` as an operator runs it, against DATABASE_URL: events that are in the outbox
// (never delivered to the reports) become the read models, with a progress line per 10 % on a
// non-terminal stderr and a summary on stdout.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

function nmc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['src/cli.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: database.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('nmc reports rebuild', () => {
  it('builds the read models from the retained events, with progress', async () => {
    const tenant = await seedTenant(database.pool, { time_zone: 'America/Chicago' });
    const events = Array.from({ length: 30 }, (_, i) => {
      const conversation_id = randomUUID();
      const at = new Date(Date.UTC(2026, 2, 1 + (i % 10), 15, 0, 0)).toISOString();
      return [
        {
          tenantId: tenant.id,
          name: 'nmc.conversation.MissedCallRecorded',
          payload: { conversation_id, call_sid: `CA${i}` },
          occurredAt: at,
          correlationId: randomUUID(),
          causationId: null,
        },
        {
          tenantId: tenant.id,
          name: 'nmc.messaging.MessageAccepted',
          payload: { conversation_id, message_id: randomUUID(), purpose: 'greeting' },
          occurredAt: new Date(Date.parse(at) + 800).toISOString(),
          correlationId: randomUUID(),
          causationId: null,
        },
      ];
    }).flat();
    await writeOutboxEvents(database.pool, events);

    const run = await nmc(['reports', 'rebuild']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^rebuilt from 60 events \(60 copied from the outbox\) in \d+\.\d s\n$/);
    expect(run.stderr).toContain('[##############################] 100% 60/60 events');
    const tables = await reportTables(database.pool);
    // Ten local days (March 1–10 in Chicago), three missed calls each, all answered within a second.
    expect(tables.funnel).toHaveLength(10);
    expect(tables.funnel.reduce((n, r) => n + Number(r.missed), 0)).toBe(30);
    expect(tables.firstResponse).toMatchObject([
      { bucket_ms: 1_000 },
      ...Array(9).fill({ bucket_ms: 1_000 }),
    ]);

    // Again: the same tables (the journal already has every event).
    const again = await nmc(['reports', 'rebuild']);
    expect(again.stdout).toMatch(/^rebuilt from 60 events \(0 copied from the outbox\)/);
    expect(await reportTables(database.pool)).toEqual(tables);
  }, 60_000);
});
