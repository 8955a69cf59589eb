import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateEvent } from '../../../src/domain/event-catalog.ts';
import type { App } from '../../../src/http/app.ts';
import { createPool, type Pool } from '../../../src/persistence/db.ts';
import { insertMessage } from '../../../src/persistence/repositories/messages.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { signTwilioRequest } from '../../../src/providers/twilio/signature.ts';
import type { Dispatch } from '../../../src/runtime/dispatch.ts';
import { OUTBOX_CHANNEL } from '../../../src/runtime/outbox.ts';
import { buildTestApp, testConfig } from '../../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { recordStatements } from '../../helpers/statements.ts';
import { waitFor } from '../../helpers/system.ts';

// Delivery status callbacks against real Postgres, through the production app with a pool of its
// own whose statements are counted: a status moving forward is one statement (the status change,
// its event and the NOTIFY together), so a callback costs one round trip and no transaction.

const AUTH_TOKEN = 'test-auth-token-0000';
const BASE_URL = testConfig().PUBLIC_BASE_URL;

let database: TestDatabase;
let appPool: Pool;
let app: App;
let tenant: Tenant;
let other: Tenant;
let statements: string[] = [];
const dispatched: Parameters<Dispatch>[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  appPool = createPool(database.url, { max: 4 });
  recordStatements(appPool, (sql) => statements.push(sql));
  const dispatch: Dispatch = async (...args) => {
    dispatched.push(args);
    return {
      outcome: 'applied',
      conversationId: 'conversationId' in args[1] ? args[1].conversationId : '',
      version: 1,
      state: 'x',
      messageIds: [],
    };
  };
  ({ app } = await buildTestApp(appPool, { dispatch }));
  tenant = await seedTenant(database.pool);
  other = await seedTenant(database.pool);
});
afterAll(async () => {
  await app?.close();
  await appPool?.end();
  await database?.drop();
});
beforeEach(() => {
  statements = [];
  dispatched.length = 0;
});

let callerSeq = 0;
async function outboundMessage(
  status: 'queued' | 'sending' = 'sending',
  owner: Tenant = tenant,
  direction: 'in' | 'out' = 'out',
): Promise<{ conversationId: string; messageId: string; sid: string; caller: string }> {
  callerSeq += 1;
  const caller = `+1310555${String(callerSeq).padStart(4, '0')}`;
  const conversationId = randomUUID();
  await database.pool.query(
    `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version, last_activity_at, created_at)
     VALUES ($1, $2, $3, 'open', '{}', 1, now(), now())`,
    [owner.id, conversationId, caller],
  );
  const messageId = randomUUID();
  await insertMessage(database.pool, {
    tenantId: owner.id,
    id: messageId,
    conversationId,
    direction,
    participant: direction === 'out' ? 'assistant' : 'caller',
    body: 'We missed your call',
    status: direction === 'out' ? status : 'received',
    at: new Date().toISOString(),
  });
  return { conversationId, messageId, sid: `SM${randomUUID().replaceAll('-', '')}`, caller };
}

async function callback(
  ref: { messageId: string; tenantId?: string },
  params: { sid: string; status: string; errorCode?: string },
  correlationId = `corr-${randomUUID()}`,
): Promise<{ status: number; body: string }> {
  const url = `/webhooks/twilio/sms/status?${new URLSearchParams({
    tenant: ref.tenantId ?? tenant.id,
    message: ref.messageId,
  })}`;
  const form: Record<string, string> = {
    AccountSid: `AC${'0'.repeat(32)}`,
    MessageSid: params.sid,
    MessageStatus: params.status,
  };
  if (params.errorCode !== undefined) form.ErrorCode = params.errorCode;
  const response = await app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(AUTH_TOKEN, `${BASE_URL}${url}`, form),
      'x-correlation-id': correlationId,
    },
    payload: new URLSearchParams(form).toString(),
  });
  return { status: response.statusCode, body: response.body };
}

type OutboxRow = {
  tenant_id: string;
  event_id: string;
  event_name: string;
  schema_version: number;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  payload: Record<string, unknown>;
};

async function statusEvents(messageId: string): Promise<OutboxRow[]> {
  const { rows } = await database.pool.query<OutboxRow>(
    `SELECT tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload
     FROM outbox_events WHERE event_name = 'nmc.messaging.MessageStatusChanged' AND payload->>'message_id' = $1
     ORDER BY seq`,
    [messageId],
  );
  return rows;
}

async function messageRow(
  id: string,
): Promise<{ status: string; provider_sid: string | null; error_code: string | null }> {
  const { rows } = await database.pool.query<{
    status: string;
    provider_sid: string | null;
    error_code: string | null;
  }>('SELECT status, provider_sid, error_code FROM conv_messages WHERE id = $1', [id]);
  if (!rows[0]) throw new Error(`no message ${id}`);
  return rows[0];
}

async function counts(): Promise<Record<string, number>> {
  const { rows } = await database.pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM outbox_events) AS outbox,
            (SELECT count(*)::int FROM webhook_events) AS webhooks,
            (SELECT count(*)::int FROM conv_messages) AS messages,
            (SELECT count(*)::int FROM conv_messages WHERE updated_at <> created_at) AS changed`,
  );
  return rows[0] ?? {};
}

describe('a status moving forward', () => {
  it('is one statement: no transaction, no webhook claim', async () => {
    const m = await outboundMessage();
    expect(await callback(m, { sid: m.sid, status: 'sent' })).toMatchObject({ status: 204 });
    expect(statements).toHaveLength(1);
    expect(statements.join('\n')).not.toMatch(/\bBEGIN\b|webhook_events/i);
    expect(await messageRow(m.messageId)).toEqual({ status: 'sent', provider_sid: m.sid, error_code: null });
  });

  it('writes MessageStatusChanged with the change, as the catalog defines it', async () => {
    const m = await outboundMessage();
    const correlationId = `corr-${randomUUID()}`;
    expect(await callback(m, { sid: m.sid, status: 'delivered' }, correlationId)).toMatchObject({
      status: 204,
    });
    const [event, ...more] = await statusEvents(m.messageId);
    expect(more).toEqual([]);
    if (!event) throw new Error('no event');
    expect(event).toMatchObject({
      tenant_id: tenant.id,
      event_name: 'nmc.messaging.MessageStatusChanged',
      schema_version: 1,
      correlation_id: correlationId,
      causation_id: m.sid,
    });
    expect(event.payload).toEqual({
      conversation_id: m.conversationId,
      message_id: m.messageId,
      status: 'delivered',
      error_code: null,
    });
    expect(Math.abs(event.occurred_at.getTime() - Date.now())).toBeLessThan(60_000);
    const valid = validateEvent(event.event_name, event.payload);
    expect(valid).toMatchObject({ name: event.event_name, version: event.schema_version });
  });

  it('keeps the error code in the event of a failure', async () => {
    const m = await outboundMessage();
    await callback(m, { sid: m.sid, status: 'sent' });
    statements = [];
    expect(await callback(m, { sid: m.sid, status: 'undelivered', errorCode: '30005' })).toMatchObject({
      status: 204,
    });
    // The conversation's reaction is the dispatch's own transaction (stubbed here).
    expect(statements).toHaveLength(1);
    expect(await messageRow(m.messageId)).toMatchObject({ status: 'failed', error_code: '30005' });
    const events = await statusEvents(m.messageId);
    expect(events.map((e) => e.payload)).toEqual([
      { conversation_id: m.conversationId, message_id: m.messageId, status: 'sent', error_code: null },
      { conversation_id: m.conversationId, message_id: m.messageId, status: 'failed', error_code: '30005' },
    ]);
    for (const event of events) expect(() => validateEvent(event.event_name, event.payload)).not.toThrow();
    // The conversation hears of the failure once, idempotently by the message.
    expect(dispatched.map(([, , event, options]) => [event.type, options.idempotencyKey])).toEqual([
      ['MessageStatusChanged', `message-failed:${m.messageId}`],
    ]);
  });
});

describe('callbacks that move nothing', () => {
  it('the same `sent` again → no change, still one event', async () => {
    const m = await outboundMessage();
    expect((await callback(m, { sid: m.sid, status: 'sent' })).status).toBe(204);
    const events = await statusEvents(m.messageId);
    const before = await counts();
    statements = [];
    for (let i = 0; i < 3; i++) expect((await callback(m, { sid: m.sid, status: 'sent' })).status).toBe(204);
    // Each replay: the update that finds nothing forward, then the read that tells it from a 404.
    expect(statements).toHaveLength(3 * 2);
    expect(await statusEvents(m.messageId)).toEqual(events);
    expect(events.map((e) => e.payload.status)).toEqual(['sent']);
    expect(await counts()).toEqual(before);
  });

  it('the same failure again → no change, still one event, nothing dispatched', async () => {
    const m = await outboundMessage();
    const failure = { sid: m.sid, status: 'undelivered', errorCode: '30003' };
    expect((await callback(m, failure)).status).toBe(204);
    const [first] = await statusEvents(m.messageId);
    dispatched.length = 0;
    const before = await counts();
    for (let i = 0; i < 3; i++) expect((await callback(m, failure)).status).toBe(204);
    expect(await statusEvents(m.messageId)).toEqual([first]);
    expect(await counts()).toEqual(before);
    expect(await messageRow(m.messageId)).toMatchObject({ status: 'failed', error_code: '30003' });
    expect(dispatched).toEqual([]);
  });

  it('the same callback many times at once → one event', async () => {
    const m = await outboundMessage();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => callback(m, { sid: m.sid, status: 'delivered' })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(204));
    expect((await statusEvents(m.messageId)).map((e) => e.payload.status)).toEqual(['delivered']);
  });

  it('out of order (delivered, then sent) → stays delivered, no second event', async () => {
    const m = await outboundMessage();
    expect((await callback(m, { sid: m.sid, status: 'delivered' })).status).toBe(204);
    const before = await counts();
    for (const status of ['sent', 'sending', 'queued']) {
      expect((await callback(m, { sid: m.sid, status })).status).toBe(204);
    }
    expect(await messageRow(m.messageId)).toMatchObject({ status: 'delivered' });
    expect((await statusEvents(m.messageId)).map((e) => e.payload.status)).toEqual(['delivered']);
    expect(await counts()).toEqual(before);
  });

  it('a message nobody knows → 404 not_found, and nothing is written', async () => {
    const inbound = await outboundMessage('sending', tenant, 'in');
    const elsewhere = await outboundMessage('sending', other);
    const before = await counts();
    const unknown = [
      { messageId: randomUUID() },
      // Another tenant's message, named with this tenant's id: tenant-first keys find nothing.
      { messageId: elsewhere.messageId },
      // An inbound message has no delivery status.
      { messageId: inbound.messageId },
    ];
    for (const ref of unknown) {
      statements = [];
      const response = await callback(ref, { sid: elsewhere.sid, status: 'delivered' });
      expect(statements).toHaveLength(2);
      expect(response.status).toBe(404);
      expect((JSON.parse(response.body) as { error: { code: string } }).error.code).toBe('not_found');
    }
    expect(await counts()).toEqual(before);
    expect(await messageRow(elsewhere.messageId)).toMatchObject({ status: 'sending', provider_sid: null });
  });
});

describe('the status and its event commit together', () => {
  it('the event wakes the outbox dispatchers (NOTIFY); a callback that moves nothing does not', async () => {
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    try {
      const wakes: string[] = [];
      listener.on('notification', (n) => wakes.push(n.channel));
      await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
      const m = await outboundMessage();
      expect((await callback(m, { sid: m.sid, status: 'delivered' })).status).toBe(204);
      await waitFor(async () => wakes.length > 0);
      expect(wakes).toEqual([OUTBOX_CHANNEL]);
      wakes.length = 0;
      expect((await callback(m, { sid: m.sid, status: 'sent' })).status).toBe(204);
      // A notification committed before this answer reaches the listener before the answer does.
      await listener.query('SELECT 1');
      expect(wakes).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  it('an outbox write that fails leaves the status where it was', async () => {
    const m = await outboundMessage();
    // This database only: the outbox refuses the event, as a full disk or a broken row would.
    await database.pool.query(
      `ALTER TABLE outbox_events ADD CONSTRAINT refuse_status_events
       CHECK (event_name <> 'nmc.messaging.MessageStatusChanged') NOT VALID`,
    );
    try {
      expect((await callback(m, { sid: m.sid, status: 'sent' })).status).toBeGreaterThanOrEqual(500);
    } finally {
      await database.pool.query('ALTER TABLE outbox_events DROP CONSTRAINT refuse_status_events');
    }
    expect(await messageRow(m.messageId)).toEqual({
      status: 'sending',
      provider_sid: null,
      error_code: null,
    });
    expect(await statusEvents(m.messageId)).toEqual([]);
    // Twilio retries; now it goes through.
    expect((await callback(m, { sid: m.sid, status: 'sent' })).status).toBe(204);
    expect((await statusEvents(m.messageId)).map((e) => e.payload.status)).toEqual(['sent']);
  });
});

describe('a carrier opt-out (ErrorCode 21610)', () => {
  it('fails the message, records the opt-out, and blocks the conversation once', async () => {
    const m = await outboundMessage();
    const optedOut = { sid: m.sid, status: 'undelivered', errorCode: '21610' };
    expect((await callback(m, optedOut)).status).toBe(204);
    expect(await messageRow(m.messageId)).toMatchObject({ status: 'failed', error_code: '21610' });
    const { rows } = await database.pool.query<{ source: string }>(
      'SELECT source FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2',
      [tenant.id, m.caller],
    );
    expect(rows).toEqual([{ source: 'carrier' }]);
    expect((await statusEvents(m.messageId)).map((e) => e.payload)).toEqual([
      { conversation_id: m.conversationId, message_id: m.messageId, status: 'failed', error_code: '21610' },
    ]);
    expect(dispatched.map(([, , event, options]) => [event.type, options.idempotencyKey])).toEqual([
      ['OptedOut', `carrier-opt-out:${m.messageId}`],
    ]);

    dispatched.length = 0;
    expect((await callback(m, optedOut)).status).toBe(204);
    expect(dispatched).toEqual([]);
    expect(await statusEvents(m.messageId)).toHaveLength(1);
  });
});
