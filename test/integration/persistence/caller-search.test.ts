import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConversations } from '../../../src/persistence/repositories/conversations.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';

// The inbox's caller search (listConversations with callerContains): the page's ids come from the
// inbox index alone (migration 0027), then the page's rows. Same answers as a plain filter: order,
// keyset pages, the state filter, the tenant's rows only; and the index is enough for the search.

let database: TestDatabase;
let tenant: Tenant;
let other: Tenant;
const base = Date.parse('2026-11-01T12:00:00Z');

async function conversation(owner: Tenant, caller: string, state: string, minutesAfter: number) {
  await database.pool.query(
    `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version, last_activity_at)
     VALUES ($1, $2, $3, $4, '{}'::jsonb, 1, $5)`,
    [owner.id, randomUUID(), caller, state, new Date(base + minutesAfter * 60_000)],
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedTenant(database.pool);
  other = await seedTenant(database.pool);
  // 40 callers, one in two containing 4821; every third match closed; two share a minute.
  for (let i = 0; i < 40; i++) {
    const caller =
      i % 2 === 0 ? `+1310${String(i).padStart(2, '0')}54821` : `+1310${String(i).padStart(2, '0')}56000`;
    await conversation(tenant, caller, i % 6 === 0 ? 'closed' : 'open', i === 3 ? 2 : i);
  }
  await conversation(other, '+13109954821', 'open', 100);
});
afterAll(async () => {
  await database?.drop();
});

describe('caller search', () => {
  it('pages through exactly the matching conversations, newest first, with the state filter', async () => {
    const all = await database.pool.query<{ id: string }>(
      `SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller LIKE '%4821%' AND state = 'open'
       ORDER BY last_activity_at DESC, id DESC`,
      [tenant.id],
    );
    expect(all.rows.length).toBe(13);
    const seen: string[] = [];
    let after: { at: string; id: string } | undefined;
    for (;;) {
      const page = await listConversations(database.pool, {
        tenantId: tenant.id,
        state: 'open',
        callerContains: '4821',
        ...(after ? { after } : {}),
        limit: 5,
      });
      seen.push(...page.map((row) => row.id));
      const last = page.at(-1);
      if (page.length < 5 || !last) break;
      after = { at: last.last_activity_at.toISOString(), id: last.id };
    }
    expect(seen).toEqual(all.rows.map((row) => row.id));
  });

  it("never returns another tenant's conversation", async () => {
    const page = await listConversations(database.pool, {
      tenantId: other.id,
      callerContains: '4821',
      limit: 50,
    });
    expect(page.map((row) => row.caller)).toEqual(['+13109954821']);
    const mine = await listConversations(database.pool, {
      tenantId: tenant.id,
      callerContains: '99548',
      limit: 50,
    });
    expect(mine).toEqual([]);
  });

  it('finds the page from the inbox index alone', async () => {
    // A rare match among many conversations (else walking the inbox in order finds a page sooner),
    // vacuumed as autovacuum keeps a table in production: the visibility map lets an index answer alone.
    await database.pool.query(
      `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version)
       SELECT $1, gen_random_uuid(), '+1415' || lpad(n::text, 7, '0'), 'closed', '{}'::jsonb, 1
       FROM generate_series(1, 2000) AS n`,
      [other.id],
    );
    await database.pool.query('VACUUM ANALYZE conv_conversations');
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      // A table this small is cheapest to read whole: take that choice away to see the index's.
      await client.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
      const captured: string[] = [];
      const query = client.query.bind(client);
      const spy = {
        query: (text: string, values: unknown[]) => {
          captured.push(text);
          return query(text, values);
        },
      } as unknown as typeof client;
      await listConversations(spy, { tenantId: other.id, callerContains: '99548', limit: 5 });
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${captured[0]}`, [
        other.id,
        '%99548%',
        5,
      ]);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(
        'Index Only Scan using conv_conversations_inbox',
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
