import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/domain/errors.ts';
import { INITIAL_DIALOGUE } from '../../../src/machines/booking-dialogue.ts';
import { SNAPSHOT_SCHEMA_VERSION } from '../../../src/machines/conversation-snapshot.ts';
import { recordOptOut, setCampaignStatus } from '../../../src/persistence/repositories/compliance.ts';
import { insertMessage } from '../../../src/persistence/repositories/messages.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import type { FeatureGates, GatesReader } from '../../../src/runtime/conversation-facts.ts';
import {
  createDispatch,
  type Dispatch,
  type DispatchOptions,
  type DispatchResult,
  type EventInput,
  type RecordHook,
} from '../../../src/runtime/dispatch.ts';
import { QUEUES } from '../../../src/runtime/job-queues.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant, startBossForTests } from '../../helpers/engine.ts';

// The conversation runtime against real Postgres and pg-boss: one transaction per event, the row
// lock serialising events of one conversation, idempotency and webhook claims, guards read as
// facts, snapshot revival, and nothing written when anything fails before COMMIT.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OPEN_GATES: GatesReader = async () => ({ sms: true, assistant: true });

let database: TestDatabase;
let boss: PgBoss;
let dispatch: Dispatch;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startBossForTests(database.url);
  dispatch = createDispatch({ db: database.pool, boss, readGates: OPEN_GATES });
});
afterAll(async () => {
  await boss?.stop({ graceful: false });
  await database?.drop();
});

// Event times move forward by a second per event; a Tuesday 10:00 in New York (business hours).
let clock = Date.parse('2026-03-10T15:00:00.000Z');
function tick(): string {
  clock += 1_000;
  return new Date(clock).toISOString();
}

let callers = 0;
function nextCaller(): string {
  callers += 1;
  return `+1415555${String(callers).padStart(4, '0')}`;
}

function missedCall(callSid = `CA${randomUUID().replaceAll('-', '')}`): EventInput {
  return { type: 'MissedCall', at: tick(), callSid };
}

function options(extra: Partial<DispatchOptions> = {}): DispatchOptions {
  return { correlationId: `corr-${randomUUID()}`, ...extra };
}

/** A record hook that writes the inbound SMS row, as the messaging webhook does. */
function recordInbound(body: string, at: string): RecordHook {
  return async ({ client, tenant, conversation }) => {
    await insertMessage(client, {
      tenantId: tenant.id,
      id: randomUUID(),
      conversationId: conversation.id,
      direction: 'in',
      participant: 'caller',
      body,
      status: 'received',
      providerSid: `SM${randomUUID().replaceAll('-', '')}`,
      at,
    });
  };
}

type ConversationDbRow = {
  id: string;
  caller: string;
  state: string;
  version: number;
  snapshot: { value: unknown; context: Record<string, unknown> };
  snapshot_schema_version: number;
  flagged: string | null;
  closed_at: Date | null;
};

async function conversations(tenantId: string): Promise<ConversationDbRow[]> {
  const { rows } = await database.pool.query<ConversationDbRow>(
    `SELECT id, caller, state, version, snapshot, snapshot_schema_version, flagged, closed_at
     FROM conv_conversations WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows;
}

async function conversation(tenantId: string, id: string): Promise<ConversationDbRow> {
  const row = (await conversations(tenantId)).find((r) => r.id === id);
  if (!row) throw new Error(`conversation ${id} not found`);
  return row;
}

type MessageDbRow = {
  id: string;
  conversation_id: string;
  direction: string;
  participant: string;
  purpose: string | null;
  body: string;
  status: string;
};

async function messages(tenantId: string, direction?: 'in' | 'out'): Promise<MessageDbRow[]> {
  const { rows } = await database.pool.query<MessageDbRow>(
    `SELECT id, conversation_id, direction, participant, purpose, body, status FROM conv_messages
     WHERE tenant_id = $1 AND ($2::text IS NULL OR direction = $2) ORDER BY created_at, id`,
    [tenantId, direction ?? null],
  );
  return rows;
}

type OutboxDbRow = {
  event_id: string;
  event_name: string;
  schema_version: number;
  tenant_id: string;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  payload: Record<string, unknown>;
};

async function outbox(tenantId: string, name?: string): Promise<OutboxDbRow[]> {
  const { rows } = await database.pool.query<OutboxDbRow>(
    `SELECT event_id, event_name, schema_version, tenant_id, occurred_at, correlation_id, causation_id, payload
     FROM outbox_events WHERE tenant_id = $1 AND ($2::text IS NULL OR event_name = $2) ORDER BY seq`,
    [tenantId, name ?? null],
  );
  return rows;
}

type JobDbRow = { name: string; data: Record<string, unknown>; start_after: Date };

async function jobs(tenantId: string, queue?: string): Promise<JobDbRow[]> {
  const { rows } = await database.pool.query<JobDbRow>(
    `SELECT name, data, start_after FROM pgboss.job
     WHERE data->>'tenant_id' = $1 AND ($2::text IS NULL OR name = $2) ORDER BY created_on, id`,
    [tenantId, queue ?? null],
  );
  return rows;
}

async function smsJobsFor(messageId: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'sms-send' AND data->>'message_id' = $1",
    [messageId],
  );
  return rows[0]?.n ?? 0;
}

async function insertRawConversation(
  tenant: Tenant,
  row: { caller: string; state: string; snapshot: unknown; schemaVersion: number; version: number },
): Promise<string> {
  const id = randomUUID();
  await database.pool.query(
    `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [tenant.id, id, row.caller, row.state, JSON.stringify(row.snapshot), row.schemaVersion, row.version],
  );
  return id;
}

describe('dispatch: a missed call from a new caller', () => {
  it('creates one open conversation, one queued greeting, one sms-send job and the outbox events, at version 1', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const event = missedCall('CA0001');
    const result = await dispatch(tenant.id, { caller }, event, {
      correlationId: 'corr-missed-1',
      causationId: 'call:CA0001',
    });

    expect(result).toMatchObject({ outcome: 'applied', version: 1, state: 'open' });
    expect(result.conversationId).toMatch(UUID);
    expect(result.messageIds).toHaveLength(1);
    const messageId = result.messageIds[0]!;

    const rows = await conversations(tenant.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: result.conversationId,
      caller,
      state: 'open',
      version: 1,
      snapshot_schema_version: SNAPSHOT_SCHEMA_VERSION,
      flagged: null,
    });
    expect(rows[0]!.snapshot.context).toMatchObject({
      missedCalls: 1,
      lastGreetingAt: event.at,
      timerToken: 1,
    });

    const sent = await messages(tenant.id);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      id: messageId,
      conversation_id: result.conversationId,
      direction: 'out',
      participant: 'assistant',
      purpose: 'greeting',
      status: 'queued',
    });
    expect(sent[0]!.body).toContain(tenant.name);

    const smsJobs = await jobs(tenant.id, QUEUES.smsSend);
    expect(smsJobs).toHaveLength(1);
    expect(smsJobs[0]!.data).toEqual({ tenant_id: tenant.id, message_id: messageId, attempt: 1 });
    expect(await smsJobsFor(messageId)).toBe(1);
    // The inactivity timer is a delayed job in the same transaction.
    const timers = await jobs(tenant.id, QUEUES.conversationTimer);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.data).toMatchObject({
      conversation_id: result.conversationId,
      timer: 'inactivity',
      token: 1,
    });
    expect(timers[0]!.start_after.getTime()).toBe(Date.parse(event.at) + 24 * 60 * 60_000);

    const events = await outbox(tenant.id);
    expect(events.map((e) => e.event_name)).toEqual([
      'nmc.conversation.ConversationStarted',
      'nmc.conversation.MissedCallRecorded',
      'nmc.conversation.MessageQueued',
    ]);
    for (const envelope of events) {
      expect(envelope.event_id).toMatch(UUID);
      expect(envelope).toMatchObject({
        schema_version: 1,
        tenant_id: tenant.id,
        correlation_id: 'corr-missed-1',
        causation_id: 'call:CA0001',
      });
      expect(envelope.occurred_at.toISOString()).toBe(event.at);
      expect(envelope.payload.conversation_id).toBe(result.conversationId);
    }
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3);
    expect(events[1]!.payload).toEqual({ conversation_id: result.conversationId, call_sid: 'CA0001' });
    expect(events[2]!.payload).toEqual({
      conversation_id: result.conversationId,
      message_id: messageId,
      purpose: 'greeting',
    });
  });
});

describe('dispatch: concurrency', () => {
  it('applies 200 events from 8 concurrent workers one at a time, each worker in its own order', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const first = await dispatch(tenant.id, { caller }, missedCall(), options());
    const initial = first.version;
    const workers = 8;
    const perWorker = 25;
    const base = clock;
    clock += perWorker * 1_000 + 1_000;

    // The hook runs under the row lock: the version it reads is the one this event is applied to.
    // Serialised application means 200 distinct versions; a worker's order means increasing ones.
    const recordWithVersion =
      (worker: number, i: number, at: string): RecordHook =>
      async (tx) => {
        const { rows } = await tx.client.query<{ version: number }>(
          'SELECT version FROM conv_conversations WHERE tenant_id = $1 AND id = $2',
          [tx.tenant.id, tx.conversation.id],
        );
        await recordInbound(`w${worker}-${i}@v${rows[0]!.version}`, at)(tx);
      };

    const results = await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        const versions: number[] = [];
        for (let i = 0; i < perWorker; i++) {
          const at = new Date(base + i * 1_000 + worker).toISOString();
          const result = await dispatch(
            tenant.id,
            { conversationId: first.conversationId },
            {
              type: 'InboundSms',
              at,
              messageSid: `SM-w${worker}-${i}`,
              body: `w${worker}-${i}`,
              mediaCount: 0,
            },
            options({ record: recordWithVersion(worker, i, at) }),
          );
          expect(result.outcome).toBe('applied');
          versions.push(result.version);
        }
        return versions;
      }),
    );

    const row = await conversation(tenant.id, first.conversationId);
    expect(row.version).toBe(initial + workers * perWorker);

    const inbound = await messages(tenant.id, 'in');
    expect(inbound).toHaveLength(workers * perWorker);
    const seen = inbound.map((m) => {
      const match = /^w(\d+)-(\d+)@v(\d+)$/.exec(m.body);
      if (!match) throw new Error(`unexpected body ${m.body}`);
      return { worker: Number(match[1]), i: Number(match[2]), version: Number(match[3]) };
    });
    expect(seen.map((s) => s.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: workers * perWorker }, (_, k) => initial + k),
    );
    for (let worker = 0; worker < workers; worker++) {
      const mine = seen.filter((s) => s.worker === worker).sort((a, b) => a.i - b.i);
      expect(mine.map((s) => s.i)).toEqual(Array.from({ length: perWorker }, (_, i) => i));
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.version).toBeGreaterThan(mine[i - 1]!.version);
      // Each dispatch reports the version it wrote: the one its hook saw, plus one.
      expect(results[worker]).toEqual(mine.map((s) => s.version + 1));
    }

    // No lost update of the snapshot either: the acknowledgement went out exactly once.
    const outbound = await messages(tenant.id, 'out');
    expect(outbound.map((m) => m.purpose).sort()).toEqual(['assistant', 'greeting']);
    // A plain text is no alert (typed reasons only); the timer token counts every applied text.
    expect(await outbox(tenant.id, 'nmc.conversation.OperatorAttentionNeeded')).toHaveLength(0);
    expect(row.snapshot.context.timerToken).toBe(1 + workers * perWorker);
  });

  it('10 concurrent first events for one new caller make exactly one conversation', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        dispatch(tenant.id, { caller }, missedCall(`CA-race-${i}`), options()),
      ),
    );

    expect(new Set(results.map((r) => r.conversationId)).size).toBe(1);
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const { rows } = await database.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed'",
      [tenant.id, caller],
    );
    expect(rows[0]!.n).toBe(1);
    expect(await conversations(tenant.id)).toHaveLength(1);
    expect(await outbox(tenant.id, 'nmc.conversation.ConversationStarted')).toHaveLength(1);
    expect(await outbox(tenant.id, 'nmc.conversation.MissedCallRecorded')).toHaveLength(10);
    // Within the greeting window only one greeting goes out.
    expect(await messages(tenant.id, 'out')).toHaveLength(1);
    expect((await conversations(tenant.id))[0]!.snapshot.context.missedCalls).toBe(10);
  });
});

describe('dispatch: atomicity', () => {
  it('a failure between the transition and COMMIT leaves nothing written', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    let reached = 0;
    const failing = createDispatch({
      db: database.pool,
      boss,
      readGates: OPEN_GATES,
      beforeCommit: async () => {
        reached += 1;
        throw new Error('injected before commit');
      },
    });
    const event: EventInput = {
      type: 'InboundSms',
      at: tick(),
      messageSid: 'SM-atomic',
      body: 'hi',
      mediaCount: 0,
    };
    const dispatchOptions = options({
      idempotencyKey: 'atomic-1',
      webhook: { provider: 'twilio-test', key: `atomic-${tenant.id}` },
      record: recordInbound('hi', event.at),
    });

    await expect(failing(tenant.id, { caller }, event, dispatchOptions)).rejects.toThrow(
      'injected before commit',
    );
    expect(reached).toBe(1);

    expect(await conversations(tenant.id)).toEqual([]);
    expect(await messages(tenant.id)).toEqual([]);
    expect(await outbox(tenant.id)).toEqual([]);
    expect(await jobs(tenant.id)).toEqual([]);
    const claims = await database.pool.query(
      'SELECT 1 FROM webhook_events WHERE provider = $1 AND event_key = $2',
      ['twilio-test', `atomic-${tenant.id}`],
    );
    expect(claims.rowCount).toBe(0);
    const applied = await database.pool.query('SELECT 1 FROM conv_applied_events WHERE tenant_id = $1', [
      tenant.id,
    ]);
    expect(applied.rowCount).toBe(0);

    // Nothing was claimed, so the same delivery applies normally afterwards.
    const retried = await dispatch(tenant.id, { caller }, event, dispatchOptions);
    expect(retried).toMatchObject({ outcome: 'applied', version: 1 });
    expect(await messages(tenant.id, 'in')).toHaveLength(1);
  });

  it('an event that breaks the catalog rolls the whole dispatch back', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    await expect(
      dispatch(
        tenant.id,
        { caller },
        missedCall(),
        options({ record: async ({ emit }) => emit('nmc.nope.Unknown', {}) }),
      ),
    ).rejects.toThrow(/not in the catalog/);
    expect(await conversations(tenant.id)).toEqual([]);
    expect(await messages(tenant.id)).toEqual([]);
    expect(await outbox(tenant.id)).toEqual([]);
    expect(await jobs(tenant.id)).toEqual([]);
  });
});

describe('dispatch: idempotency', () => {
  it('a replay with the same idempotency key returns the first result and has no effect', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const event = missedCall();
    const first = await dispatch(tenant.id, { caller }, event, options({ idempotencyKey: 'call:idem-1' }));
    const second = await dispatch(tenant.id, { caller }, event, options({ idempotencyKey: 'call:idem-1' }));

    expect(first.outcome).toBe('applied');
    expect(second).toEqual({ ...first, outcome: 'duplicate' });
    expect(await messages(tenant.id)).toHaveLength(1);
    expect(await jobs(tenant.id, QUEUES.smsSend)).toHaveLength(1);
    expect(await smsJobsFor(first.messageIds[0]!)).toBe(1);
    expect((await conversation(tenant.id, first.conversationId)).version).toBe(1);
    expect(await outbox(tenant.id, 'nmc.conversation.MissedCallRecorded')).toHaveLength(1);
  });

  it('10 concurrent dispatches with one key have one effect', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const event = missedCall();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        dispatch(tenant.id, { caller }, event, options({ idempotencyKey: 'call:idem-2' })),
      ),
    );

    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(9);
    const applied = results.find((r) => r.outcome === 'applied')!;
    for (const r of results) {
      expect(r).toMatchObject({
        conversationId: applied.conversationId,
        version: 1,
        messageIds: applied.messageIds,
      });
    }
    expect(await conversations(tenant.id)).toHaveLength(1);
    expect((await conversation(tenant.id, applied.conversationId)).version).toBe(1);
    expect(await messages(tenant.id)).toHaveLength(1);
    expect(await jobs(tenant.id, QUEUES.smsSend)).toHaveLength(1);
    expect(await outbox(tenant.id, 'nmc.conversation.MissedCallRecorded')).toHaveLength(1);
  });
});

describe('dispatch: webhook claims', () => {
  it('the same provider callback twice has one effect', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const event = missedCall();
    const webhook = { provider: 'twilio-test', key: `CA-${tenant.id}:no-answer` };
    const first = await dispatch(tenant.id, { caller }, event, options({ webhook }));
    const second = await dispatch(tenant.id, { caller }, event, options({ webhook }));

    expect(first.outcome).toBe('applied');
    expect(second.outcome).toBe('duplicate');
    expect((await conversation(tenant.id, first.conversationId)).version).toBe(1);
    expect(await messages(tenant.id)).toHaveLength(1);
    expect(await jobs(tenant.id, QUEUES.smsSend)).toHaveLength(1);
    const { rows } = await database.pool.query(
      'SELECT tenant_id FROM webhook_events WHERE provider = $1 AND event_key = $2',
      [webhook.provider, webhook.key],
    );
    expect(rows).toEqual([{ tenant_id: tenant.id }]);
  });

  it('the same provider callback 10 times at once has one effect', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const event = missedCall();
    const webhook = { provider: 'twilio-test', key: `CA-${tenant.id}:busy` };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => dispatch(tenant.id, { caller }, event, options({ webhook }))),
    );

    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(9);
    const rows = await conversations(tenant.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.version).toBe(1);
    expect(await messages(tenant.id)).toHaveLength(1);
    expect(await jobs(tenant.id, QUEUES.smsSend)).toHaveLength(1);
    expect(await outbox(tenant.id, 'nmc.conversation.MissedCallRecorded')).toHaveLength(1);
    const claims = await database.pool.query(
      'SELECT 1 FROM webhook_events WHERE provider = $1 AND event_key = $2',
      [webhook.provider, webhook.key],
    );
    expect(claims.rowCount).toBe(1);
  });
});

describe('dispatch: guards read as facts in the transaction', () => {
  async function expectNoGreeting(tenant: Tenant, reason: string) {
    expect(await messages(tenant.id, 'out')).toEqual([]);
    expect(await jobs(tenant.id, QUEUES.smsSend)).toEqual([]);
    const suppressed = await outbox(tenant.id, 'nmc.conversation.SendSuppressed');
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]!.payload).toMatchObject({ purpose: 'greeting', reason });
    const [row] = await conversations(tenant.id);
    expect(row!.snapshot.context).toMatchObject({ missedCalls: 1, lastGreetingAt: null });
  }

  it('a pending campaign: no greeting, no job, a SendSuppressed event', async () => {
    const tenant = await seedTenant(database.pool);
    await setCampaignStatus(database.pool, tenant.id, 'pending');
    const result = await dispatch(tenant.id, { caller: nextCaller() }, missedCall(), options());
    expect(result).toMatchObject({ outcome: 'applied', messageIds: [] });
    await expectNoGreeting(tenant, 'campaign_not_approved');
  });

  it('an opted-out caller: no greeting', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    await recordOptOut(database.pool, tenant.id, caller, 'keyword');
    const result = await dispatch(tenant.id, { caller }, missedCall(), options());
    expect(result.messageIds).toEqual([]);
    await expectNoGreeting(tenant, 'opted_out');
  });

  it('the assistant gate closed: no greeting', async () => {
    const tenant = await seedTenant(database.pool);
    const calls: { tenantId: string; at: string }[] = [];
    const gated = createDispatch({
      db: database.pool,
      boss,
      readGates: async (_db, tenantId, at): Promise<FeatureGates> => {
        calls.push({ tenantId, at });
        return { sms: true, assistant: false };
      },
    });
    const event = missedCall();
    const result = await gated(tenant.id, { caller: nextCaller() }, event, options());
    expect(result.messageIds).toEqual([]);
    expect(calls).toEqual([{ tenantId: tenant.id, at: event.at }]);
    await expectNoGreeting(tenant, 'assistant_gate_closed');
  });
});

describe('dispatch: stored snapshots', () => {
  it('revives a schema-version-1 snapshot through its migration', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const v1 = {
      value: 'optedOut',
      context: {
        assignedTo: null,
        lastGreetingAt: '2026-03-01T15:00:00.000Z',
        timerToken: 3,
        blockedReason: null,
        closedReason: null,
      },
    };
    const id = await insertRawConversation(tenant, {
      caller,
      state: 'blocked',
      snapshot: v1,
      schemaVersion: 1,
      version: 7,
    });

    const at = tick();
    const result = await dispatch(
      tenant.id,
      { conversationId: id },
      { type: 'InboundSms', at, messageSid: 'SM-v1', body: 'hello?', mediaCount: 0 },
      options({ record: recordInbound('hello?', at) }),
    );
    expect(result).toMatchObject({ outcome: 'applied', conversationId: id, state: 'blocked', version: 8 });
    const row = await conversation(tenant.id, id);
    expect(row).toMatchObject({
      state: 'blocked',
      version: 8,
      snapshot_schema_version: SNAPSHOT_SCHEMA_VERSION,
      flagged: null,
    });
    expect(row.snapshot).toEqual({
      value: 'blocked',
      context: {
        ...v1.context,
        acknowledged: false,
        missedCalls: 0,
        blockedReason: 'opted_out',
        dialogue: INITIAL_DIALOGUE,
        pendingTexts: [],
        burstToken: 0,
      },
    });
    expect(await outbox(tenant.id, 'nmc.conversation.InboundWhileBlocked')).toHaveLength(1);
    expect(await outbox(tenant.id, 'nmc.conversation.SnapshotUnrevivable')).toEqual([]);

    // The migrated reason is live: START/UNSTOP leaves `blocked` only because it was an opt-out.
    const optedIn = await dispatch(
      tenant.id,
      { conversationId: id },
      { type: 'OptedIn', at: tick(), confirm: false },
      options(),
    );
    expect(optedIn).toMatchObject({ outcome: 'applied', state: 'open', version: 9 });
  });

  it('flags an unrevivable snapshot once, keeps it as it was, and keeps the inbound rows', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const garbage = { value: 42 };
    const id = await insertRawConversation(tenant, {
      caller,
      state: 'open',
      snapshot: garbage,
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      version: 3,
    });

    const at = tick();
    const first = await dispatch(
      tenant.id,
      { conversationId: id },
      { type: 'InboundSms', at, messageSid: 'SM-garbage-1', body: 'anyone?', mediaCount: 0 },
      options({ record: recordInbound('anyone?', at) }),
    );
    expect(first).toMatchObject({ outcome: 'flagged', conversationId: id, messageIds: [] });
    let row = await conversation(tenant.id, id);
    expect(row.flagged).toBe('unrevivable_snapshot');
    expect(row.snapshot).toEqual(garbage);
    expect(row.snapshot_schema_version).toBe(SNAPSHOT_SCHEMA_VERSION);
    const flaggedEvents = await outbox(tenant.id, 'nmc.conversation.SnapshotUnrevivable');
    expect(flaggedEvents).toHaveLength(1);
    expect(flaggedEvents[0]!.payload).toMatchObject({
      conversation_id: id,
      snapshot_schema_version: SNAPSHOT_SCHEMA_VERSION,
    });
    expect(String(flaggedEvents[0]!.payload.error)).toMatch(/unknown state/);
    expect(await messages(tenant.id, 'in')).toHaveLength(1);
    expect(await messages(tenant.id, 'out')).toEqual([]);
    expect(await jobs(tenant.id)).toEqual([]);

    // A second event (by caller this time) finds it flagged: no second alert, still no reset.
    const second = await dispatch(
      tenant.id,
      { caller },
      missedCall(),
      options({ record: recordInbound('hello', tick()) }),
    );
    expect(second).toMatchObject({ outcome: 'flagged', conversationId: id });
    row = await conversation(tenant.id, id);
    expect(row.snapshot).toEqual(garbage);
    expect(await outbox(tenant.id, 'nmc.conversation.SnapshotUnrevivable')).toHaveLength(1);
    expect(await messages(tenant.id, 'in')).toHaveLength(2);
    expect(await messages(tenant.id, 'out')).toEqual([]);
    expect(await conversations(tenant.id)).toHaveLength(1);
  });

  it('flags a snapshot of an unknown schema version', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const future = { value: 'open', context: { assignedTo: null } };
    const id = await insertRawConversation(tenant, {
      caller,
      state: 'open',
      snapshot: future,
      schemaVersion: 99,
      version: 1,
    });

    const result = await dispatch(tenant.id, { conversationId: id }, missedCall(), options());
    expect(result).toMatchObject({ outcome: 'flagged', conversationId: id, messageIds: [] });
    const row = await conversation(tenant.id, id);
    expect(row).toMatchObject({
      flagged: 'unrevivable_snapshot',
      snapshot: future,
      snapshot_schema_version: 99,
    });
    const flaggedEvents = await outbox(tenant.id, 'nmc.conversation.SnapshotUnrevivable');
    expect(flaggedEvents).toHaveLength(1);
    expect(flaggedEvents[0]!.payload).toMatchObject({ conversation_id: id, snapshot_schema_version: 99 });
    expect(String(flaggedEvents[0]!.payload.error)).toMatch(/schema version 99/);

    await dispatch(tenant.id, { conversationId: id }, missedCall(), options());
    expect(await outbox(tenant.id, 'nmc.conversation.SnapshotUnrevivable')).toHaveLength(1);
    expect(await jobs(tenant.id)).toEqual([]);
  });
});

describe('dispatch: timers and closing', () => {
  it('a stale timer token is ignored and has no effects', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const started = await dispatch(tenant.id, { caller }, missedCall(), options());
    // The missed call restarted the inactivity timer with token 1; a token 0 timer is stale.
    const before = {
      messages: (await messages(tenant.id)).length,
      events: (await outbox(tenant.id)).length,
      jobs: (await jobs(tenant.id)).length,
    };

    const result = await dispatch(
      tenant.id,
      { conversationId: started.conversationId },
      { type: 'InactivityTimeout', at: tick(), timer: 'inactivity', token: 0 },
      options(),
    );
    expect(result).toMatchObject({ outcome: 'ignored', state: 'open', messageIds: [] });
    const row = await conversation(tenant.id, started.conversationId);
    expect(row.state).toBe('open');
    expect(row.closed_at).toBeNull();
    expect(row.snapshot.context.timerToken).toBe(1);
    expect((await messages(tenant.id)).length).toBe(before.messages);
    expect((await outbox(tenant.id)).length).toBe(before.events);
    expect((await jobs(tenant.id)).length).toBe(before.jobs);
  });

  it('CloseRequested closes it, and the next missed call starts a new conversation', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const started = await dispatch(tenant.id, { caller }, missedCall(), options());
    const closeAt = tick();
    const closed = await dispatch(
      tenant.id,
      { conversationId: started.conversationId },
      { type: 'CloseRequested', at: closeAt, operatorId: 'op-1' },
      options(),
    );
    expect(closed).toMatchObject({ outcome: 'applied', state: 'closed', version: 2 });
    const row = await conversation(tenant.id, started.conversationId);
    expect(row.state).toBe('closed');
    expect(row.closed_at?.toISOString()).toBe(closeAt);
    const closedEvents = await outbox(tenant.id, 'nmc.conversation.ConversationClosed');
    expect(closedEvents.map((e) => e.payload)).toEqual([
      { conversation_id: started.conversationId, by: 'op-1', reason: 'requested' },
    ]);

    const next = await dispatch(tenant.id, { caller }, missedCall(), options());
    expect(next).toMatchObject({ outcome: 'applied', state: 'open', version: 1 });
    expect(next.conversationId).not.toBe(started.conversationId);
    expect(next.messageIds).toHaveLength(1);
    const rows = await conversations(tenant.id);
    expect(rows.map((r) => [r.id, r.state])).toEqual([
      [started.conversationId, 'closed'],
      [next.conversationId, 'open'],
    ]);
    expect(await outbox(tenant.id, 'nmc.conversation.ConversationStarted')).toHaveLength(2);

    // A late event addressed to the closed conversation itself is ignored: `closed` is final.
    const late = await dispatch(
      tenant.id,
      { conversationId: started.conversationId },
      { type: 'InboundSms', at: tick(), messageSid: 'SM-late', body: 'still there?', mediaCount: 0 },
      options(),
    );
    expect(late).toMatchObject({ outcome: 'ignored', state: 'closed', messageIds: [] });
    expect((await conversation(tenant.id, started.conversationId)).state).toBe('closed');
  });

  // lockOrCreateActiveConversation's INSERT … ON CONFLICT DO NOTHING sees the still-open row (locked
  // by the closing transaction, not yet updated) and inserts nothing; its SELECT … FOR UPDATE then
  // waits, finds the row closed after the close commits, and must try again rather than fail.
  it('a missed call racing a close starts a new conversation instead of failing', async () => {
    const tenant = await seedTenant(database.pool);
    const caller = nextCaller();
    const started = await dispatch(tenant.id, { caller }, missedCall(), options());

    // The close holds the row lock (taken before its record hook) until we let it go on.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const closing = dispatch(
      tenant.id,
      { conversationId: started.conversationId },
      { type: 'CloseRequested', at: tick(), operatorId: null },
      options({
        record: async () => {
          locked();
          await gate;
        },
      }),
    );
    await holding;
    const missed = dispatch(tenant.id, { caller }, missedCall(), options());
    await waitForLockWaiters(1);
    release();

    const [closeResult, missedResult] = await Promise.allSettled([closing, missed]);
    expect(closeResult).toMatchObject({ status: 'fulfilled', value: { state: 'closed' } });
    expect(missedResult.status === 'rejected' ? String(missedResult.reason) : 'fulfilled').toBe('fulfilled');
    const next = (missedResult as PromiseFulfilledResult<DispatchResult>).value;
    expect(next.conversationId).not.toBe(started.conversationId);
    expect(next).toMatchObject({ outcome: 'applied', state: 'open', version: 1 });
    expect(next.messageIds).toHaveLength(1);
  });
});

/** Waits until `count` backends of this database wait on a row or other heavyweight lock. */
async function waitForLockWaiters(count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const { rows } = await database.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if ((rows[0]?.n ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no ${count} lock waiter(s) within 5 s`);
}

describe('dispatch: tenant isolation', () => {
  it("another tenant's conversation id is not found and nothing is written", async () => {
    const tenantA = await seedTenant(database.pool);
    const tenantB = await seedTenant(database.pool);
    const started = await dispatch(tenantA.id, { caller: nextCaller() }, missedCall(), options());
    const before = await conversation(tenantA.id, started.conversationId);
    let recorded = false;

    const attempt = dispatch(
      tenantB.id,
      { conversationId: started.conversationId },
      { type: 'OperatorMessage', at: tick(), operatorId: 'op-b', body: 'hello from B' },
      options({
        idempotencyKey: 'cross-tenant',
        webhook: { provider: 'twilio-test', key: `cross-${tenantB.id}` },
        record: async () => {
          recorded = true;
        },
      }),
    );
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ code: 'not_found' });
    expect(recorded).toBe(false);

    expect(await conversations(tenantB.id)).toEqual([]);
    expect(await messages(tenantB.id)).toEqual([]);
    expect(await outbox(tenantB.id)).toEqual([]);
    expect(await jobs(tenantB.id)).toEqual([]);
    const claims = await database.pool.query(
      'SELECT 1 FROM webhook_events WHERE provider = $1 AND event_key = $2',
      ['twilio-test', `cross-${tenantB.id}`],
    );
    expect(claims.rowCount).toBe(0);
    expect(await conversation(tenantA.id, started.conversationId)).toEqual(before);
    expect(await messages(tenantA.id)).toHaveLength(1);
  });
});
