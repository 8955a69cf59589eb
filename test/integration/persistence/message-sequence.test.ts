import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../../src/persistence/db.ts';
import {
  insertMessage,
  listMessages,
  type Participant,
} from '../../../src/persistence/repositories/messages.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';

// The transcript's order: messages written in one transaction share its time, so the order they
// were written in is their per-conversation sequence, whatever their ids.

let database: TestDatabase;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedTenant(database.pool);
});
afterAll(async () => {
  await database?.drop();
});

async function newConversation(caller: string): Promise<string> {
  const id = randomUUID();
  await database.pool.query(
    `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version)
     VALUES ($1, $2, $3, 'open', '{}'::jsonb, 1)`,
    [tenant.id, id, caller],
  );
  return id;
}

// Ids that sort the opposite way to the order the messages are written: ordering by (time, id)
// would list them reversed.
const descendingIds = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${(0xf - i).toString(16).repeat(8)}-0000-4000-8000-000000000000`);

describe('message sequence', () => {
  it('lists messages written in one transaction in the order they were written, with seq 1…n', async () => {
    const conversationId = await newConversation('+13105550101');
    const at = '2026-03-10T15:00:00.000Z';
    const script: Array<[Participant, string]> = [
      ['caller', 'do you have anything tomorrow?'],
      ['assistant', 'I can do Wed Mar 11, 8:00 AM or 10:00 AM.'],
      ['assistant', 'Reply 1 or 2.'],
      ['caller', '1'],
    ];
    const ids = descendingIds(script.length);
    await inTransaction(database.pool, async (client) => {
      for (const [i, [participant, body]] of script.entries()) {
        await insertMessage(client, {
          tenantId: tenant.id,
          id: ids[i] ?? '',
          conversationId,
          direction: participant === 'caller' ? 'in' : 'out',
          participant,
          body,
          status: participant === 'caller' ? 'received' : 'queued',
          at,
        });
      }
    });
    const listed = await listMessages(database.pool, tenant.id, conversationId);
    expect(listed.map((m) => m.body)).toEqual(script.map(([, body]) => body));
    expect(listed.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(listed.map((m) => m.created_at.toISOString()))).toEqual(new Set([at]));
  });

  it('numbers each conversation on its own', async () => {
    const a = await newConversation('+13105550102');
    const b = await newConversation('+13105550103');
    for (const conversationId of [a, b, a]) {
      await insertMessage(database.pool, {
        tenantId: tenant.id,
        id: randomUUID(),
        conversationId,
        direction: 'out',
        participant: 'assistant',
        body: 'hello',
        status: 'queued',
        at: new Date().toISOString(),
      });
    }
    expect((await listMessages(database.pool, tenant.id, a)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await listMessages(database.pool, tenant.id, b)).map((m) => m.seq)).toEqual([1]);
  });

  it('gives concurrent writers distinct numbers (the conversation row serialises them)', async () => {
    const conversationId = await newConversation('+13105550104');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        inTransaction(database.pool, async (client) => {
          for (let k = 0; k < 3; k++) {
            await insertMessage(client, {
              tenantId: tenant.id,
              id: randomUUID(),
              conversationId,
              direction: 'out',
              participant: 'operator',
              body: `writer ${i} text ${k}`,
              status: 'queued',
              at: new Date().toISOString(),
            });
          }
        }),
      ),
    );
    const listed = await listMessages(database.pool, tenant.id, conversationId);
    expect(listed.map((m) => m.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    // One transaction's texts stay together and in order: the row lock is held to its commit.
    for (let i = 0; i < 8; i++) {
      const mine = listed.filter((m) => m.body.startsWith(`writer ${i} `)).map((m) => m.seq);
      expect(mine[2]! - mine[0]!).toBe(2);
    }
  });
});
