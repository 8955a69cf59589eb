import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedDemo } from '../../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../../src/providers/twilio/account.ts';
import { createTwilioClient } from '../../../src/providers/twilio/client.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../../src/providers/twilio/sandbox/server.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { createDispatch, type Dispatch } from '../../../src/runtime/dispatch.ts';
import { QUEUES } from '../../../src/runtime/job-queues.ts';
import { createSendNow, type QueuedSend } from '../../../src/runtime/send-now.ts';
import { createSmsSender, type SendJob } from '../../../src/runtime/send-sms.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { dispatchMissedCall, startBossForTests } from '../../helpers/engine.ts';
import { captureLogger } from '../../helpers/logs.ts';

// Send right after commit (src/runtime/send-now.ts), against real Postgres, pg-boss and the Twilio
// sandbox through the real SDK, with no workers running: the committing process claims the send job
// and sends; a job a worker holds is left alone, a job it holds is not handed to a worker, and a
// send that fails goes back to pg-boss for a retry.

let database: TestDatabase;
let boss: PgBoss;
let sandbox: TwilioSandbox;
let tenant: Tenant;
let sendCalls = 0;
let failSends = false;
let sendNow: ReturnType<typeof createSendNow>;
/** What `dispatch` announced after its commits, and whether sendNow acts on it (per test). */
let announced: QueuedSend[] = [];
let immediate = true;
let dispatch: Dispatch;

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedDemo(database.pool);
  boss = await startBossForTests(database.url);
  sandbox = await startTwilioSandbox({ ...SANDBOX_ACCOUNT, delivery: false });
  const logger = captureLogger('error').logger;
  let send: (job: SendJob) => Promise<unknown> = async () => undefined;
  dispatch = createDispatch({
    db: database.pool,
    boss,
    readGates: readGatesFromBilling,
    sendNow: (sends) => {
      announced.push(...sends);
      if (immediate) sendNow(sends);
    },
  });
  send = createSmsSender({
    db: database.pool,
    boss,
    twilio: createTwilioClient({ ...SANDBOX_ACCOUNT, apiBaseUrl: sandbox.url }),
    publicBaseUrl: 'http://127.0.0.1:9',
    readGates: readGatesFromBilling,
    dispatch,
    logger,
  });
  sendNow = createSendNow({
    db: database.pool,
    boss,
    logger,
    send: async (job) => {
      sendCalls += 1;
      if (failSends) throw new Error('database went away');
      return send(job);
    },
  });
});
afterEach(() => {
  sandbox.reset();
  announced = [];
  immediate = true;
  failSends = false;
  sendCalls = 0;
});
afterAll(async () => {
  await sandbox?.close();
  await boss?.stop({ graceful: false });
  await database?.drop();
});

let callerSeq = 0;
async function missedCall() {
  callerSeq += 1;
  const caller = `+1310555${String(6000 + callerSeq).padStart(4, '0')}`;
  const result = await dispatchMissedCall(dispatch, tenant.id, caller);
  return { caller, messageId: result.messageIds[0] as string };
}

async function job(id: string): Promise<{ state: string; retry_count: number }> {
  const { rows } = await database.pool.query<{ state: string; retry_count: number }>(
    'SELECT state, retry_count FROM pgboss.job WHERE name = $1 AND id = $2',
    [QUEUES.smsSend, id],
  );
  if (!rows[0]) throw new Error(`job ${id} not found`);
  return rows[0];
}

const textsTo = (caller: string) => sandbox.messages().filter((m) => m.to === caller);

describe('send right after commit', () => {
  it('sends the greeting a committed missed call queued, with no worker, and completes its job', async () => {
    const { caller, messageId } = await missedCall();
    expect(announced).toHaveLength(1);
    expect(announced[0]?.job).toEqual({ tenant_id: tenant.id, message_id: messageId, attempt: 1 });
    await sendNow.idle();

    expect(textsTo(caller)).toHaveLength(1);
    expect((await job(announced[0]!.jobId)).state).toBe('completed');
    const { rows } = await database.pool.query<{ provider_sid: string | null }>(
      'SELECT provider_sid FROM conv_messages WHERE tenant_id = $1 AND id = $2',
      [tenant.id, messageId],
    );
    expect(rows[0]?.provider_sid).toMatch(/^SM/);
    // A worker fetching now finds nothing to send.
    expect(await boss.fetch(QUEUES.smsSend)).toEqual([]);
  });

  it('leaves a job a worker has already claimed alone: one text, sent by nobody else', async () => {
    immediate = false;
    const { caller } = await missedCall();
    const queued = announced[0] as QueuedSend;
    const [fetched] = await boss.fetch(QUEUES.smsSend);
    expect(fetched?.id).toBe(queued.jobId);

    sendNow([queued]);
    await sendNow.idle();
    expect(sendCalls).toBe(0);
    expect(textsTo(caller)).toHaveLength(0);
    expect((await job(queued.jobId)).state).toBe('active');
  });

  it('hands a send that failed back to pg-boss, which retries the job', async () => {
    failSends = true;
    await missedCall();
    await sendNow.idle();
    expect(sendCalls).toBe(1);
    expect((await job(announced[0]!.jobId)).state).toBe('retry');
  });

  it('announces nothing for a transaction that rolled back', async () => {
    const failing = createDispatch({
      db: database.pool,
      boss,
      readGates: readGatesFromBilling,
      sendNow: (sends) => announced.push(...sends),
      beforeCommit: async () => {
        throw new Error('crash before commit');
      },
    });
    await expect(
      failing(
        tenant.id,
        { caller: '+13105559999' },
        {
          type: 'MissedCall',
          callSid: `CA${randomUUID().replaceAll('-', '')}`,
          at: new Date().toISOString(),
        },
        { correlationId: 'rolled-back' },
      ),
    ).rejects.toThrow('crash before commit');
    expect(announced).toEqual([]);
  });
});
