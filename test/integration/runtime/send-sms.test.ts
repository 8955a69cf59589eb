import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setCampaignStatus } from '../../../src/persistence/repositories/compliance.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedDemo } from '../../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../../src/providers/twilio/account.ts';
import { createTwilioClient } from '../../../src/providers/twilio/client.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../../src/providers/twilio/sandbox/server.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { createDispatch, type Dispatch } from '../../../src/runtime/dispatch.ts';
import { QUEUES } from '../../../src/runtime/job-queues.ts';
import { createSmsSender, replayDeadSends, type SendJob } from '../../../src/runtime/send-sms.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { queuedGreeting as queuedGreetingOf, startBossForTests } from '../../helpers/engine.ts';
import { captureLogger } from '../../helpers/logs.ts';
import { recordStatements } from '../../helpers/statements.ts';
import { waitFor } from '../../helpers/system.ts';

// The send worker's function, called directly with jobs, against real Postgres and pg-boss and the
// sandbox Twilio through the real SDK. No workers run: every job is executed by the test, so the
// retry jobs the sender enqueues can be inspected and run by hand. `random: () => 0` makes every
// backoff delay zero.

const PUBLIC_BASE_URL = 'http://127.0.0.1:9';

let database: TestDatabase;
let boss: PgBoss;
let sandbox: TwilioSandbox;
let tenant: Tenant;
let dispatch: Dispatch;
let send: (job: SendJob) => Promise<string>;
let statements: string[] | null = null;

function sender(timeoutMs = 5_000) {
  return createSmsSender({
    db: database.pool,
    boss,
    twilio: createTwilioClient({ ...SANDBOX_ACCOUNT, apiBaseUrl: sandbox.url, timeoutMs }),
    publicBaseUrl: PUBLIC_BASE_URL,
    readGates: readGatesFromBilling,
    dispatch,
    logger: captureLogger('warn').logger,
    random: () => 0,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedDemo(database.pool);
  boss = await startBossForTests(database.url);
  // No delivery: messages stay `queued` at the sandbox and no status callback is sent anywhere.
  sandbox = await startTwilioSandbox({ ...SANDBOX_ACCOUNT, delivery: false });
  dispatch = createDispatch({ db: database.pool, boss, readGates: readGatesFromBilling });
  send = sender();
  recordStatements(database.pool, (sql) => statements?.push(sql));
});
afterEach(() => {
  sandbox.reset();
});
afterAll(async () => {
  await sandbox?.close();
  await boss?.stop({ graceful: false });
  await database?.drop();
});

let callerSeq = 0;
function nextCaller(): string {
  callerSeq += 1;
  return `+1310555${String(3000 + callerSeq).padStart(4, '0')}`;
}

/** A missed call dispatched as the voice webhook would: one queued greeting and its sms-send job. */
const queuedGreeting = (caller = nextCaller()) => queuedGreetingOf(dispatch, tenant.id, caller);

type MessageDbRow = {
  id: string;
  status: string;
  provider_sid: string | null;
  error_code: string | null;
  failure_reason: string | null;
  attempts: number;
  body: string;
};

async function message(id: string): Promise<MessageDbRow> {
  const { rows } = await database.pool.query<MessageDbRow>(
    `SELECT id, status, provider_sid, error_code, failure_reason, attempts, body
     FROM conv_messages WHERE tenant_id = $1 AND id = $2`,
    [tenant.id, id],
  );
  if (!rows[0]) throw new Error(`message ${id} not found`);
  return rows[0];
}

async function jobsFor(
  queue: string,
  messageId: string,
): Promise<Array<{ data: SendJob; state: string; start_after: Date }>> {
  const { rows } = await database.pool.query<{ data: SendJob; state: string; start_after: Date }>(
    `SELECT data, state, start_after FROM pgboss.job WHERE name = $1 AND data->>'message_id' = $2
     ORDER BY created_on, id`,
    [queue, messageId],
  );
  return rows;
}

function createRequestsTo(caller: string): number {
  return sandbox.requests().filter((r) => r.method === 'POST' && r.params.To === caller).length;
}

function messagesTo(caller: string) {
  return sandbox.messages().filter((m) => m.to === caller);
}

describe('send worker: provider failures', () => {
  it('429 then success: a retry job with attempt 2, then sent with the provider SID recorded', async () => {
    const { caller, messageId, job } = await queuedGreeting();
    sandbox.failNext(1, { status: 429 });
    const before = Date.now();

    expect(await send(job)).toBe('retry_scheduled');
    const retries = (await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt === 2);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.data).toEqual({ tenant_id: tenant.id, message_id: messageId, attempt: 2 });
    // random() = 0: the backoff delay is zero.
    expect(retries[0]!.start_after.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(retries[0]!.start_after.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(await message(messageId)).toMatchObject({ status: 'sending', provider_sid: null, attempts: 1 });

    expect(await send({ ...job, attempt: 2 })).toBe('sent');
    const [sms] = messagesTo(caller);
    expect(sms).toBeDefined();
    expect(await message(messageId)).toMatchObject({ provider_sid: sms?.sid, attempts: 2 });
    expect(sms?.statusCallback).toBe(
      `${PUBLIC_BASE_URL}/webhooks/twilio/sms/status?tenant=${tenant.id}&message=${messageId}`,
    );
    expect(createRequestsTo(caller)).toBe(2);
  });

  it('six 500s: five retries, then dead-lettered; the replay is a new message that sends', async () => {
    const { caller, messageId, conversationId, job } = await queuedGreeting();
    sandbox.failNext(6, { status: 500 });
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await send({ ...job, attempt })).toBe('retry_scheduled');
      const next = (await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt === attempt + 1);
      expect(next).toHaveLength(1);
    }
    expect(await send({ ...job, attempt: 6 })).toBe('dead_lettered');
    expect(await jobsFor(QUEUES.smsSend, messageId)).toHaveLength(6);
    expect((await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt === 7)).toHaveLength(0);
    expect(await message(messageId)).toMatchObject({
      status: 'failed',
      failure_reason: 'retries_exhausted',
      error_code: '20500',
      provider_sid: null,
      attempts: 6,
    });
    const dead = await jobsFor(QUEUES.smsSendDead, messageId);
    expect(dead.map((j) => j.data)).toEqual([{ tenant_id: tenant.id, message_id: messageId, attempt: 6 }]);
    expect(createRequestsTo(caller)).toBe(6);
    expect(messagesTo(caller)).toHaveLength(0);

    expect(await replayDeadSends(database.pool, boss)).toBe(1);
    const { rows } = await database.pool.query<{ id: string; status: string; body: string }>(
      `SELECT id, status, body FROM conv_messages
       WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'out' AND id <> $3`,
      [tenant.id, conversationId, messageId],
    );
    expect(rows).toHaveLength(1);
    const replayed = rows[0]!;
    expect(replayed.status).toBe('queued');
    expect(replayed.body).toBe((await message(messageId)).body);
    // The original stays failed: statuses only move forward.
    expect((await message(messageId)).status).toBe('failed');
    const replayJobs = await jobsFor(QUEUES.smsSend, replayed.id);
    expect(replayJobs.map((j) => j.data)).toEqual([
      { tenant_id: tenant.id, message_id: replayed.id, attempt: 1 },
    ]);
    // The dead letter is consumed: a second replay finds nothing.
    expect(await replayDeadSends(database.pool, boss)).toBe(0);

    expect(await send(replayJobs[0]!.data)).toBe('sent');
    expect(messagesTo(caller)).toHaveLength(1);
    expect((await message(replayed.id)).provider_sid).toBe(messagesTo(caller)[0]?.sid);
  });

  it('21610 (the caller opted out at the carrier) → failed, the opt-out is recorded and the conversation blocked', async () => {
    const { caller, messageId, conversationId, job } = await queuedGreeting();
    sandbox.rejectTo(caller, 21610);
    expect(await send(job)).toBe('failed');
    expect(await message(messageId)).toMatchObject({
      status: 'failed',
      error_code: '21610',
      provider_sid: null,
    });
    const { rows } = await database.pool.query<{ source: string }>(
      'SELECT source FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2',
      [tenant.id, caller],
    );
    expect(rows).toEqual([{ source: 'carrier' }]);
    expect((await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt > 1)).toHaveLength(0);

    // The conversation is blocked by an OptedOut(carrier) dispatched with confirm: false — the
    // carrier already told the caller, and nothing may be sent to them anyway.
    const conversation = await database.pool.query<{
      state: string;
      assigned_to: string | null;
      snapshot: { value: string; context: { blockedReason: string | null } };
    }>('SELECT state, assigned_to, snapshot FROM conv_conversations WHERE tenant_id = $1 AND id = $2', [
      tenant.id,
      conversationId,
    ]);
    expect(conversation.rows).toHaveLength(1);
    expect(conversation.rows[0]).toMatchObject({
      state: 'blocked',
      assigned_to: null,
      snapshot: { value: 'blocked', context: { blockedReason: 'opted_out' } },
    });
    const events = await database.pool.query<{ name: string; payload: Record<string, unknown> }>(
      `SELECT event_name AS name, payload FROM outbox_events
       WHERE tenant_id = $1 AND payload->>'conversation_id' = $2 AND event_name IN
         ('nmc.conversation.OptedOut', 'nmc.conversation.StateChanged')
       ORDER BY seq`,
      [tenant.id, conversationId],
    );
    expect(events.rows).toEqual([
      { name: 'nmc.conversation.OptedOut', payload: { conversation_id: conversationId, source: 'carrier' } },
      {
        name: 'nmc.conversation.StateChanged',
        payload: { conversation_id: conversationId, from: 'open', to: 'blocked', cause: 'OptedOut' },
      },
    ]);
    // No confirmation text: the only outbound message is the failed greeting.
    const outbound = await database.pool.query<{ id: string }>(
      "SELECT id FROM conv_messages WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'out'",
      [tenant.id, conversationId],
    );
    expect(outbound.rows.map((r) => r.id)).toEqual([messageId]);

    // A later missed call from the same caller is recorded but not answered.
    const again = await dispatch(
      tenant.id,
      { caller },
      { type: 'MissedCall', callSid: `CA${randomUUID().replaceAll('-', '')}`, at: new Date().toISOString() },
      { correlationId: `test-${randomUUID()}` },
    );
    expect(again).toMatchObject({ conversationId, state: 'blocked', messageIds: [] });

    // The job handed out again finds the message failed: nothing is sent or dispatched twice.
    expect(await send(job)).toBe('skipped');
    expect(createRequestsTo(caller)).toBe(1);
  });

  it('21610: a worker that dies before blocking the conversation still leaves it blocked once the job runs again', async () => {
    const { caller, messageId, conversationId, job } = await queuedGreeting();
    sandbox.rejectTo(caller, 21610);
    const crashing = createSmsSender({
      db: database.pool,
      boss,
      twilio: createTwilioClient({ ...SANDBOX_ACCOUNT, apiBaseUrl: sandbox.url, timeoutMs: 5_000 }),
      publicBaseUrl: PUBLIC_BASE_URL,
      readGates: readGatesFromBilling,
      dispatch: async () => {
        throw new Error('worker killed');
      },
      logger: captureLogger('warn').logger,
      random: () => 0,
    });
    await expect(crashing(job)).rejects.toThrow('worker killed');
    // The opt-out, the failed message and the block commit together: the crash left none of them.
    expect(await message(messageId)).toMatchObject({ status: 'sending', error_code: null });
    const optOuts = await database.pool.query(
      'SELECT 1 FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2',
      [tenant.id, caller],
    );
    expect(optOuts.rowCount).toBe(0);
    // pg-boss hands the job out again, to a healthy worker: Twilio refuses again, and this time all
    // three are written.
    await send(job);
    expect(await message(messageId)).toMatchObject({ status: 'failed', error_code: '21610' });
    const { rows } = await database.pool.query<{ state: string }>(
      'SELECT state FROM conv_conversations WHERE tenant_id = $1 AND id = $2',
      [tenant.id, conversationId],
    );
    expect(rows[0]?.state).toBe('blocked');
  });

  it('21211 (invalid number, 400) → failed at once, no retry', async () => {
    const { caller, messageId, job } = await queuedGreeting();
    sandbox.rejectTo(caller, 21211);
    expect(await send(job)).toBe('failed');
    expect(await message(messageId)).toMatchObject({
      status: 'failed',
      error_code: '21211',
      failure_reason: 'rejected_by_provider',
    });
    expect((await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt > 1)).toHaveLength(0);
    expect(await jobsFor(QUEUES.smsSendDead, messageId)).toHaveLength(0);
    expect(createRequestsTo(caller)).toBe(1);
  });

  it('a timeout (the answer comes after the client gave up) → retry scheduled', async () => {
    const impatient = sender(200);
    const { messageId, job } = await queuedGreeting();
    sandbox.delayNext(1, 1_000);
    expect(await impatient(job)).toBe('retry_scheduled');
    expect((await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt === 2)).toHaveLength(1);
    expect(await message(messageId)).toMatchObject({ status: 'sending', provider_sid: null });
  });

  it('a timed-out create that Twilio accepted: the retry finds it at Twilio and sends nothing more', async () => {
    const impatient = sender(200);
    const { caller, messageId, job } = await queuedGreeting();
    sandbox.delayNext(1, 1_000);
    expect(await impatient(job)).toBe('retry_scheduled');
    const retries = (await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt === 2);
    expect(retries.map((j) => j.data)).toEqual([
      { tenant_id: tenant.id, message_id: messageId, attempt: 2, check_provider: true },
    ]);
    // The sandbox processed the request although the client gave up waiting.
    expect(messagesTo(caller)).toHaveLength(1);

    expect(await send(retries[0]!.data)).toBe('sent');
    const sms = messagesTo(caller);
    expect(sms).toHaveLength(1);
    expect(createRequestsTo(caller)).toBe(1);
    expect(await message(messageId)).toMatchObject({ provider_sid: sms[0]?.sid, attempts: 2 });
    expect(await jobsFor(QUEUES.smsStatusPoll, messageId)).toHaveLength(1);
  });

  it('check_provider with nothing at Twilio (the timed-out request never arrived): the retry sends once', async () => {
    const { caller, messageId, job } = await queuedGreeting();
    // What a timed-out first attempt leaves behind when Twilio never got the request.
    await database.pool.query(
      "UPDATE conv_messages SET status = 'sending', attempts = 1 WHERE tenant_id = $1 AND id = $2",
      [tenant.id, messageId],
    );
    expect(await send({ ...job, attempt: 2, check_provider: true })).toBe('sent');
    const sms = messagesTo(caller);
    expect(sms).toHaveLength(1);
    expect(createRequestsTo(caller)).toBe(1);
    // It asked first.
    expect(sandbox.requests().filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(await message(messageId)).toMatchObject({ provider_sid: sms[0]?.sid, attempts: 2 });
  });

  it('a 500 is not ambiguous: its retry does not ask Twilio first', async () => {
    const { messageId, job } = await queuedGreeting();
    sandbox.failNext(1, { status: 500 });
    expect(await send(job)).toBe('retry_scheduled');
    const retries = (await jobsFor(QUEUES.smsSend, messageId)).filter((j) => j.data.attempt === 2);
    expect(retries.map((j) => j.data)).toEqual([{ tenant_id: tenant.id, message_id: messageId, attempt: 2 }]);
    expect(await send(retries[0]!.data)).toBe('sent');
    expect(sandbox.requests().filter((r) => r.method === 'GET')).toHaveLength(0);
  });
});

describe('send worker: at most once per message', () => {
  it('a worker killed between claim and provider call: the job runs again and sends exactly once', async () => {
    const { caller, messageId, job } = await queuedGreeting();
    // What a crashed worker leaves behind: claimed (`sending`), never reached Twilio (no SID).
    await database.pool.query(
      "UPDATE conv_messages SET status = 'sending', attempts = 1 WHERE tenant_id = $1 AND id = $2",
      [tenant.id, messageId],
    );
    expect(await send(job)).toBe('sent');
    expect(messagesTo(caller)).toHaveLength(1);
    expect((await message(messageId)).provider_sid).toBe(messagesTo(caller)[0]?.sid);

    // pg-boss hands the same job out once more (expiry after the first run): nothing is sent.
    expect(await send(job)).toBe('skipped');
    expect(createRequestsTo(caller)).toBe(1);
  });

  it('a message that already has a provider SID is never sent again, though its status still says queued or sending', async () => {
    for (const status of ['queued', 'sending']) {
      const { caller, messageId, job } = await queuedGreeting();
      await database.pool.query(
        'UPDATE conv_messages SET status = $3, provider_sid = $4 WHERE tenant_id = $1 AND id = $2',
        [tenant.id, messageId, status, `SM${randomUUID().replaceAll('-', '')}`],
      );
      expect(await send(job)).toBe('skipped');
      expect(await send({ ...job, attempt: 2 })).toBe('skipped');
      expect(createRequestsTo(caller)).toBe(0);
    }
  });

  it('a message past sending (sent, delivered, failed) is skipped', async () => {
    for (const status of ['sent', 'delivered', 'failed']) {
      const { caller, messageId, job } = await queuedGreeting();
      await database.pool.query('UPDATE conv_messages SET status = $3 WHERE tenant_id = $1 AND id = $2', [
        tenant.id,
        messageId,
        status,
      ]);
      expect(await send(job)).toBe('skipped');
      expect(createRequestsTo(caller)).toBe(0);
    }
  });
});

describe('send worker: the acceptance', () => {
  const accepted = async (messageId: string) =>
    (
      await database.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox_events
         WHERE event_name = 'nmc.messaging.MessageAccepted' AND payload->>'message_id' = $1`,
        [messageId],
      )
    ).rows[0]?.n;

  it('the SID and MessageAccepted are written together, with the status poll queued', async () => {
    const { messageId, job } = await queuedGreeting();
    expect(await send(job)).toBe('sent');
    const row = await message(messageId);
    expect(row.provider_sid).toMatch(/^SM/);
    expect(await accepted(messageId)).toBe(1);
    expect(await jobsFor(QUEUES.smsStatusPoll, messageId)).toHaveLength(1);
  });

  it('a status callback that wrote the SID first: its SID stays, and the acceptance is still recorded', async () => {
    const { messageId, job } = await queuedGreeting();
    // Twilio takes the text but answers late; meanwhile its callback has brought the SID.
    sandbox.delayNext(1, 400);
    const sending = send(job);
    await waitFor(async () => (await message(messageId)).status === 'sending');
    await database.pool.query(`UPDATE conv_messages SET provider_sid = 'SMcallbackfirst' WHERE id = $1`, [
      messageId,
    ]);
    expect(await sending).toBe('sent');
    expect((await message(messageId)).provider_sid).toBe('SMcallbackfirst');
    expect(await accepted(messageId)).toBe(1);
  });
});

describe('send worker: guards checked again where the SMS leaves', () => {
  it('the campaign went back to pending after the message was queued → blocked, nothing sent', async () => {
    const { messageId, job } = await queuedGreeting();
    await setCampaignStatus(database.pool, tenant.id, 'pending');
    try {
      expect(await send(job)).toBe('blocked');
      expect(await message(messageId)).toMatchObject({
        status: 'failed',
        failure_reason: 'campaign_not_approved',
        provider_sid: null,
      });
      expect(sandbox.requests()).toHaveLength(0);
    } finally {
      await setCampaignStatus(database.pool, tenant.id, 'approved');
    }
  });

  it('the caller opted out after the message was queued → blocked with opted_out, nothing sent', async () => {
    const { caller, messageId, job } = await queuedGreeting();
    await database.pool.query(
      "INSERT INTO comp_opt_outs (tenant_id, phone, source) VALUES ($1, $2, 'keyword')",
      [tenant.id, caller],
    );
    expect(await send(job)).toBe('blocked');
    expect(await message(messageId)).toMatchObject({ status: 'failed', failure_reason: 'opted_out' });
    expect(sandbox.requests()).toHaveLength(0);
  });

  // The sender keeps the tenant row and the billing facts per process (src/runtime/tenant-facts.ts):
  // a second send reads neither, and a change written by any path reaches the very next send.
  it('a second send reads neither the tenant nor its billing; a closing after queueing still blocks', async () => {
    statements = [];
    try {
      const first = await queuedGreeting();
      expect(await send(first.job)).toBe('sent');
      const second = await queuedGreeting();
      statements.length = 0;
      expect(await send(second.job)).toBe('sent');
      expect(statements.filter((sql) => /FROM id_tenants|FROM bill_subscriptions/.test(sql))).toEqual([]);

      const third = await queuedGreeting();
      await database.pool.query('UPDATE id_tenants SET closed_at = now() WHERE id = $1', [tenant.id]);
      expect(await send(third.job)).toBe('blocked');
      expect(await message(third.messageId)).toMatchObject({ status: 'failed', provider_sid: null });
      expect(sandbox.requests().filter((r) => r.params.To === third.caller)).toHaveLength(0);
    } finally {
      statements = null;
      await database.pool.query('UPDATE id_tenants SET closed_at = NULL WHERE id = $1', [tenant.id]);
    }
  });
});
