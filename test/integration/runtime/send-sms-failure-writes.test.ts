import type { PgBoss } from 'pg-boss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../../../src/domain/event-catalog.ts';
import { createPool, type Pool } from '../../../src/persistence/db.ts';
import { setCampaignStatus } from '../../../src/persistence/repositories/compliance.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedDemo } from '../../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../../src/providers/twilio/account.ts';
import { createTwilioClient } from '../../../src/providers/twilio/client.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../../src/providers/twilio/sandbox/server.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { createDispatch, type Dispatch } from '../../../src/runtime/dispatch.ts';
import { createSmsSender, type SendJob } from '../../../src/runtime/send-sms.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { queuedGreeting as queuedGreetingOf, startBossForTests } from '../../helpers/engine.ts';
import { captureLogger } from '../../helpers/logs.ts';
import { recordStatements } from '../../helpers/statements.ts';

// The send worker's failed-status writes: the status and its MessageStatusChanged event are one
// statement (src/runtime/message-status-event.ts), so a send that fails outside a transaction of
// its own (a guard that now says no, a provider refusal) opens none. The sender gets a pool of its
// own whose statements are counted.

let database: TestDatabase;
let senderPool: Pool;
let boss: PgBoss;
let sandbox: TwilioSandbox;
let tenant: Tenant;
let dispatch: Dispatch;
let send: (job: SendJob) => Promise<string>;
const statements: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedDemo(database.pool);
  boss = await startBossForTests(database.url);
  sandbox = await startTwilioSandbox({ ...SANDBOX_ACCOUNT, delivery: false });
  dispatch = createDispatch({ db: database.pool, boss, readGates: readGatesFromBilling });
  senderPool = createPool(database.url, { max: 4 });
  recordStatements(senderPool, (sql) => statements.push(sql));
  send = createSmsSender({
    db: senderPool,
    boss,
    twilio: createTwilioClient({ ...SANDBOX_ACCOUNT, apiBaseUrl: sandbox.url, timeoutMs: 5_000 }),
    publicBaseUrl: 'http://127.0.0.1:9',
    readGates: readGatesFromBilling,
    dispatch,
    logger: captureLogger('warn').logger,
    random: () => 0,
  });
});
afterEach(() => {
  sandbox.reset();
});
afterAll(async () => {
  await sandbox?.close();
  await boss?.stop({ graceful: false });
  await senderPool?.end();
  await database?.drop();
});

let callerSeq = 0;
function queuedGreeting() {
  callerSeq += 1;
  return queuedGreetingOf(dispatch, tenant.id, `+1310555${String(7000 + callerSeq).padStart(4, '0')}`);
}

async function failedWith(messageId: string) {
  const { rows: messages } = await database.pool.query<{ status: string; failure_reason: string | null }>(
    'SELECT status, failure_reason FROM conv_messages WHERE tenant_id = $1 AND id = $2',
    [tenant.id, messageId],
  );
  const { rows: events } = await database.pool.query<{
    event_name: string;
    correlation_id: string;
    causation_id: string | null;
    payload: Record<string, unknown>;
  }>(
    `SELECT event_name, correlation_id, causation_id, payload FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.messaging.MessageStatusChanged' AND payload->>'message_id' = $2
     ORDER BY seq`,
    [tenant.id, messageId],
  );
  for (const event of events) expect(() => validateEvent(event.event_name, event.payload)).not.toThrow();
  return { message: messages[0], events };
}

describe('send worker: a failed send writes its status and event in one statement', () => {
  it('a guard that now says no (campaign pending) → failed, one event, no transaction', async () => {
    const { conversationId, messageId, job } = await queuedGreeting();
    await setCampaignStatus(database.pool, tenant.id, 'pending');
    statements.length = 0;
    try {
      expect(await send(job)).toBe('blocked');
    } finally {
      await setCampaignStatus(database.pool, tenant.id, 'approved');
    }
    expect(statements.filter((sql) => /^\s*BEGIN/i.test(sql))).toEqual([]);
    expect(statements.filter((sql) => /outbox_events/.test(sql))).toHaveLength(1);
    const { message, events } = await failedWith(messageId);
    expect(message).toEqual({ status: 'failed', failure_reason: 'campaign_not_approved' });
    expect(events).toEqual([
      {
        event_name: 'nmc.messaging.MessageStatusChanged',
        correlation_id: messageId,
        causation_id: null,
        payload: {
          conversation_id: conversationId,
          message_id: messageId,
          status: 'failed',
          error_code: null,
        },
      },
    ]);
    // Run again (a redelivered job): nothing more is written.
    statements.length = 0;
    expect(await send(job)).toBe('skipped');
    expect((await failedWith(messageId)).events).toHaveLength(1);
  });

  it('a provider refusal (21211) → failed with the code, one event, no transaction', async () => {
    const { caller, conversationId, messageId, job } = await queuedGreeting();
    sandbox.rejectTo(caller, 21211);
    statements.length = 0;
    expect(await send(job)).toBe('failed');
    expect(statements.filter((sql) => /^\s*BEGIN/i.test(sql))).toEqual([]);
    const { message, events } = await failedWith(messageId);
    expect(message).toEqual({ status: 'failed', failure_reason: 'rejected_by_provider' });
    expect(events.map((e) => e.payload)).toEqual([
      { conversation_id: conversationId, message_id: messageId, status: 'failed', error_code: '21211' },
    ]);
  });
});
