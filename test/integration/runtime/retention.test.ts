import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DEFAULTS } from '../../../src/domain/policy.ts';
import type { Pool } from '../../../src/persistence/db.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { RETENTION_BATCH, runRetention } from '../../../src/runtime/retention.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';

// Retention on a real database with an injected clock: rows are written with chosen timestamps
// around each period (messages 180 days, calls and closed conversations 13 months = 396 days,
// webhook dedupe and applied events 90 days, dispatched outbox 30 days, idempotency keys at
// expiry), and one run removes exactly what is past its period. `now` is years away from the real
// clock: were the real clock used, nothing here would be old enough to go.

const DAY_MS = 86_400_000;
const NOW = new Date('2035-03-01T12:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const MONTHS_12 = 365;
const MONTHS_14 = 426;

const NOTHING = {
  messages: 0,
  calls: 0,
  conversations: 0,
  applied_events: 0,
  webhook_events: 0,
  outbox: 0,
  idempotency_keys: 0,
  report_conversations: 0,
  report_appointments: 0,
  report_events: 0,
  report_funnel_days: 0,
  report_first_response_days: 0,
};

let database: TestDatabase;
let pool: Pool;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.pool;
  tenant = await seedTenant(pool);
});

afterAll(async () => {
  await database?.drop();
});

async function insertConversation(input: { caller: string; state: string; lastActivityDaysAgo: number }) {
  const id = randomUUID();
  const at = daysAgo(input.lastActivityDaysAgo);
  await pool.query(
    `INSERT INTO conv_conversations
       (tenant_id, id, caller, state, snapshot, snapshot_schema_version, last_activity_at, created_at, closed_at)
     VALUES ($1, $2, $3, $4, '{}'::jsonb, 1, $5, $5, $6)`,
    [tenant.id, id, input.caller, input.state, at, input.state === 'closed' ? at : null],
  );
  return id;
}

async function insertMessage(conversationId: string, ageDays: number) {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO conv_messages (tenant_id, id, conversation_id, direction, participant, body, status, created_at, updated_at)
     VALUES ($1, $2, $3, 'out', 'assistant', 'hello', 'delivered', $4, $4)`,
    [tenant.id, id, conversationId, daysAgo(ageDays)],
  );
  return id;
}

async function insertCall(conversationId: string | null, ageDays: number) {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO conv_calls (tenant_id, id, conversation_id, call_sid, caller, dial_status, missed, created_at)
     VALUES ($1, $2, $3, $4, '+13105550111', 'no-answer', true, $5)`,
    [tenant.id, id, conversationId, `CA${id.replaceAll('-', '')}`, daysAgo(ageDays)],
  );
  return id;
}

async function insertAppliedEvent(conversationId: string, ageDays: number) {
  const key = `test:${randomUUID()}`;
  await pool.query(
    `INSERT INTO conv_applied_events (tenant_id, idempotency_key, conversation_id, version, result, applied_at)
     VALUES ($1, $2, $3, 1, '{}'::jsonb, $4)`,
    [tenant.id, key, conversationId, daysAgo(ageDays)],
  );
  return key;
}

async function insertWebhookEvent(ageDays: number) {
  const key = `SM${randomUUID()}:delivered`;
  await pool.query(
    'INSERT INTO webhook_events (provider, event_key, tenant_id, received_at) VALUES ($1, $2, $3, $4)',
    ['twilio', key, tenant.id, daysAgo(ageDays)],
  );
  return key;
}

async function insertOutboxEvent(input: { occurredDaysAgo: number; dispatchedDaysAgo: number | null }) {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO outbox_events
       (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, payload, dispatched_at, next_attempt_at)
     VALUES ($1, $2, 'nmc.compliance.CampaignStatusChanged', 1, $3, 'test', $4, $5, $3)`,
    [
      tenant.id,
      id,
      daysAgo(input.occurredDaysAgo),
      JSON.stringify({ status: 'approved', previous: 'pending', reason: null }),
      input.dispatchedDaysAgo === null ? null : daysAgo(input.dispatchedDaysAgo),
    ],
  );
  for (const subscriber of ['conversations.campaign-status', 'test.other-subscriber']) {
    await pool.query(
      'INSERT INTO outbox_consumptions (tenant_id, event_id, subscriber, consumed_at) VALUES ($1, $2, $3, $4)',
      [tenant.id, id, subscriber, daysAgo(input.dispatchedDaysAgo ?? input.occurredDaysAgo)],
    );
  }
  return id;
}

async function insertIdempotencyKey(expiresAt: Date) {
  const key = randomUUID();
  await pool.query(
    `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash, state, response_status, response_body, created_at, expires_at)
     VALUES ($1, 'POST /api/v1/holds', $2, 'hash', 'done', 201, '{}'::jsonb, $3, $4)`,
    [tenant.id, key, new Date(expiresAt.getTime() - DAY_MS), expiresAt],
  );
  return key;
}

async function ids(sql: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(sql);
  return rows.map((r) => r.id).sort();
}

const sorted = (values: string[]) => [...values].sort();

describe('runRetention', () => {
  const rows = {} as {
    openOld: string;
    blockedOld: string;
    closedRecent: string;
    closedOld: string;
    msgKept: string;
    msgGone: string;
    msgInClosedRecent: string;
    msgInClosedOld: string;
    callKept: string;
    callGone: string;
    appliedKept: string;
    appliedGone: string;
    webhookKept: string;
    webhookGone: string;
    outboxKept: string;
    outboxGone: string;
    outboxUndispatched: string;
    keyLive: string;
    keyExpired: string;
  };

  beforeAll(async () => {
    rows.openOld = await insertConversation({
      caller: '+13105550001',
      state: 'open',
      lastActivityDaysAgo: MONTHS_14,
    });
    rows.blockedOld = await insertConversation({
      caller: '+13105550002',
      state: 'blocked',
      lastActivityDaysAgo: MONTHS_14,
    });
    rows.closedRecent = await insertConversation({
      caller: '+13105550003',
      state: 'closed',
      lastActivityDaysAgo: MONTHS_12,
    });
    rows.closedOld = await insertConversation({
      caller: '+13105550004',
      state: 'closed',
      lastActivityDaysAgo: MONTHS_14,
    });

    rows.msgKept = await insertMessage(rows.openOld, 179);
    rows.msgGone = await insertMessage(rows.openOld, 181);
    rows.msgInClosedRecent = await insertMessage(rows.closedRecent, 10);
    // A recent message in an old closed conversation goes with its conversation.
    rows.msgInClosedOld = await insertMessage(rows.closedOld, 10);

    rows.callKept = await insertCall(rows.closedRecent, MONTHS_12);
    rows.callGone = await insertCall(rows.closedOld, MONTHS_14);

    rows.appliedKept = await insertAppliedEvent(rows.openOld, 89);
    rows.appliedGone = await insertAppliedEvent(rows.openOld, 91);

    rows.webhookKept = await insertWebhookEvent(89);
    rows.webhookGone = await insertWebhookEvent(91);

    rows.outboxKept = await insertOutboxEvent({ occurredDaysAgo: 29, dispatchedDaysAgo: 29 });
    rows.outboxGone = await insertOutboxEvent({ occurredDaysAgo: 31, dispatchedDaysAgo: 31 });
    // Never dispatched (e.g. parked by backoff): it is not done, so it stays whatever its age.
    rows.outboxUndispatched = await insertOutboxEvent({ occurredDaysAgo: 40, dispatchedDaysAgo: null });

    rows.keyLive = await insertIdempotencyKey(new Date(NOW.getTime() + 60_000));
    rows.keyExpired = await insertIdempotencyKey(new Date(NOW.getTime() - 60_000));
  });

  it('would remove nothing by the real clock (the clock is injected)', async () => {
    // Everything above is years in the future of the real clock.
    expect(await runRetention(pool, POLICY_DEFAULTS, new Date())).toEqual(NOTHING);
  });

  it('removes exactly what is past its period, and reports counts per rule', async () => {
    const removed = await runRetention(pool, POLICY_DEFAULTS, NOW);
    expect(removed).toEqual({
      ...NOTHING,
      messages: 1,
      calls: 1,
      conversations: 1,
      applied_events: 1,
      webhook_events: 1,
      outbox: 1,
      idempotency_keys: 1,
    });

    expect(await ids('SELECT id FROM conv_conversations')).toEqual(
      sorted([rows.openOld, rows.blockedOld, rows.closedRecent]),
    );
    expect(await ids('SELECT id FROM conv_messages')).toEqual(sorted([rows.msgKept, rows.msgInClosedRecent]));
    expect(await ids('SELECT id FROM conv_calls')).toEqual([rows.callKept]);
    expect(await ids('SELECT idempotency_key AS id FROM conv_applied_events')).toEqual([rows.appliedKept]);
    expect(await ids('SELECT event_key AS id FROM webhook_events')).toEqual([rows.webhookKept]);
    expect(await ids('SELECT event_id AS id FROM outbox_events')).toEqual(
      sorted([rows.outboxKept, rows.outboxUndispatched]),
    );
    // Consumption records go with their event, and only with it.
    expect(await ids('SELECT DISTINCT event_id AS id FROM outbox_consumptions')).toEqual(
      sorted([rows.outboxKept, rows.outboxUndispatched]),
    );
    const { rows: consumptions } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox_consumptions',
    );
    expect(consumptions[0]?.n).toBe(4);
    expect(await ids('SELECT key AS id FROM idempotency_keys')).toEqual([rows.keyLive]);
  });

  it('a second run removes nothing', async () => {
    expect(await runRetention(pool, POLICY_DEFAULTS, NOW)).toEqual(NOTHING);
  });

  it(`removes more than one batch (${RETENTION_BATCH}) of old rows in one run`, async () => {
    const old = RETENTION_BATCH * 2 + 37;
    await pool.query(
      `INSERT INTO conv_messages (tenant_id, id, conversation_id, direction, participant, body, status, created_at, updated_at)
       SELECT $1, gen_random_uuid(), $2, 'in', 'caller', 'old ' || i, 'received', $3::timestamptz - i * interval '1 second', $3
       FROM generate_series(1, $4::int) AS i`,
      [tenant.id, rows.openOld, daysAgo(200), old],
    );
    await pool.query(
      `INSERT INTO outbox_events (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, payload, dispatched_at)
       SELECT $1, gen_random_uuid(), 'nmc.conversation.ConversationStarted', 1, $2, 'bulk', '{}'::jsonb, $2
       FROM generate_series(1, $3::int)`,
      [tenant.id, daysAgo(60), RETENTION_BATCH + 1],
    );

    const removed = await runRetention(pool, POLICY_DEFAULTS, NOW);
    expect(removed).toEqual({ ...NOTHING, messages: old, outbox: RETENTION_BATCH + 1 });
    expect(await ids('SELECT id FROM conv_messages')).toEqual(sorted([rows.msgKept, rows.msgInClosedRecent]));
    expect(await ids('SELECT event_id AS id FROM outbox_events')).toEqual(
      sorted([rows.outboxKept, rows.outboxUndispatched]),
    );

    expect(await runRetention(pool, POLICY_DEFAULTS, NOW)).toEqual(NOTHING);
  });

  it('takes its periods from the policy it is given', async () => {
    const removed = await runRetention(pool, { ...POLICY_DEFAULTS, 'retention.messages_days': 100 }, NOW);
    expect(removed).toEqual({ ...NOTHING, messages: 1 });
    expect(await ids('SELECT id FROM conv_messages')).toEqual([rows.msgInClosedRecent]);
  });
});
