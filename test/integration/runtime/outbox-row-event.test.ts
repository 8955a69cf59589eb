import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventContractError } from '../../../src/domain/event-catalog.ts';
import { inTransaction } from '../../../src/persistence/db.ts';
import {
  advanceMessageStatusSql,
  insertMessage,
  type MessageRow,
} from '../../../src/persistence/repositories/messages.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { changeWithOutboxEvent, type RowEvent } from '../../../src/runtime/outbox.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';

// changeWithOutboxEvent: a change and the events of the rows it changed in one statement. What it
// refuses (a payload the catalog refuses, a field the event does not have, a column that is not a
// plain name) it refuses before anything runs.

let database: TestDatabase;
let tenant: Tenant;
beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedTenant(database.pool);
});
afterAll(async () => {
  await database?.drop();
});

let callerSeq = 0;
async function sendingMessage(): Promise<{ id: string; conversationId: string }> {
  callerSeq += 1;
  const conversationId = randomUUID();
  await database.pool.query(
    `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version, last_activity_at, created_at)
     VALUES ($1, $2, $3, 'open', '{}', 1, now(), now())`,
    [tenant.id, conversationId, `+1310555${String(callerSeq).padStart(4, '0')}`],
  );
  const id = randomUUID();
  await insertMessage(database.pool, {
    tenantId: tenant.id,
    id,
    conversationId,
    direction: 'out',
    participant: 'assistant',
    body: 'hello',
    status: 'sending',
    at: new Date().toISOString(),
  });
  return { id, conversationId };
}

function statusEvent(messageId: string, status: string, fromRow: Record<string, string>): RowEvent {
  return {
    tenantId: tenant.id,
    name: 'nmc.messaging.MessageStatusChanged',
    payload: { message_id: messageId, status },
    fromRow,
    occurredAt: new Date().toISOString(),
    correlationId: 'test',
    causationId: null,
  };
}

const ROW_FIELDS = { conversation_id: 'conversation_id', error_code: 'error_code' };

async function state(id: string): Promise<{ status: string; events: number }> {
  const { rows } = await database.pool.query<{ status: string; events: number }>(
    `SELECT status, (SELECT count(*)::int FROM outbox_events WHERE payload->>'message_id' = $1::text) AS events
     FROM conv_messages WHERE id = $1::uuid`,
    [id],
  );
  if (!rows[0]) throw new Error(`no message ${id}`);
  return rows[0];
}

describe('changeWithOutboxEvent', () => {
  it('writes the change and one event per changed row; nothing when no row changed', async () => {
    const m = await sendingMessage();
    const change = advanceMessageStatusSql({ tenantId: tenant.id, id: m.id, status: 'sent' });
    const rows = await changeWithOutboxEvent<MessageRow>(
      database.pool,
      change,
      statusEvent(m.id, 'sent', ROW_FIELDS),
    );
    expect(rows.map((r) => [r.id, r.status])).toEqual([[m.id, 'sent']]);
    expect(await state(m.id)).toEqual({ status: 'sent', events: 1 });

    const again = await changeWithOutboxEvent(database.pool, change, statusEvent(m.id, 'sent', ROW_FIELDS));
    expect(again).toEqual([]);
    expect(await state(m.id)).toEqual({ status: 'sent', events: 1 });
  });

  it('a payload the catalog refuses is refused before the change runs', async () => {
    const m = await sendingMessage();
    // `received` is a status, but not one MessageStatusChanged may carry.
    const change = advanceMessageStatusSql({ tenantId: tenant.id, id: m.id, status: 'delivered' });
    await expect(
      changeWithOutboxEvent(database.pool, change, statusEvent(m.id, 'received', ROW_FIELDS)),
    ).rejects.toBeInstanceOf(EventContractError);
    // A field the event does not have, and a required field nobody supplies.
    await expect(
      changeWithOutboxEvent(
        database.pool,
        change,
        statusEvent(m.id, 'delivered', { ...ROW_FIELDS, body: 'body' }),
      ),
    ).rejects.toBeInstanceOf(EventContractError);
    await expect(
      changeWithOutboxEvent(
        database.pool,
        change,
        statusEvent(m.id, 'delivered', { conversation_id: 'conversation_id' }),
      ),
    ).rejects.toBeInstanceOf(EventContractError);
    await expect(
      changeWithOutboxEvent(
        database.pool,
        change,
        statusEvent(m.id, 'delivered', { ...ROW_FIELDS, error_code: 'error_code, (SELECT 1)' }),
      ),
    ).rejects.toThrow(/not a column name/);
    expect(await state(m.id)).toEqual({ status: 'sending', events: 0 });
  });

  it("inside a caller's transaction, a rollback takes back the change and its event", async () => {
    const m = await sendingMessage();
    const change = advanceMessageStatusSql({ tenantId: tenant.id, id: m.id, status: 'delivered' });
    await expect(
      inTransaction(database.pool, async (client) => {
        await changeWithOutboxEvent(client, change, statusEvent(m.id, 'delivered', ROW_FIELDS));
        throw new Error('the rest of the transaction failed');
      }),
    ).rejects.toThrow('the rest of the transaction failed');
    expect(await state(m.id)).toEqual({ status: 'sending', events: 0 });
  });
});
