import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { createPool, type Pool } from '../../src/persistence/db.ts';
import { migrate } from '../../src/persistence/migrate.ts';
import { insertMessage } from '../../src/persistence/repositories/messages.ts';
import type { Tenant } from '../../src/persistence/repositories/tenants.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { seedDemoScheduling } from '../../src/persistence/seed-demo-scheduling.ts';
import { newSid } from '../../src/providers/twilio/sandbox/sids.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createDispatch, type Dispatch } from '../../src/runtime/dispatch.ts';
import { ensureQueues } from '../../src/runtime/job-queues.ts';
import { callerPool } from '../lib/callers.ts';
import { closedLoop, type LoadResult } from '../lib/load.ts';
import { sqlStatements } from '../lib/sql-count.ts';

// The conversation engine without HTTP and without workers: `dispatch` as the webhooks call it
// (with the provider's webhook claim in the same transaction), on the migrated, seeded demo tenant.
// - hot: InboundSms after InboundSms on ONE caller — every event waits for the previous one's row
//   lock, so this is the serial speed of one conversation (the message row is written as the SMS
//   route's record hook does);
// - many: MissedCall from 10,000 different callers — each creates its conversation, the greeting
//   message, its send job, its inactivity timer and its outbox events.

export const INBOUND_BODY = 'Hi, I have a clogged drain, can someone come out this week?';

export type Engine = {
  pool: Pool;
  boss: PgBoss;
  tenant: Tenant;
  dispatch: Dispatch;
  close(): Promise<void>;
};

export async function openEngine(url: string): Promise<Engine> {
  const pool = createPool(url, { max: 12, applicationName: 'nmc-bench-engine' });
  await migrate(pool);
  const tenant = await seedDemo(pool, [seedDemoScheduling]);
  const boss = createBoss({ connectionString: url, supervise: false, max: 4 });
  boss.on('error', () => undefined);
  await boss.start();
  await ensureQueues(boss);
  const dispatch = createDispatch({ db: pool, boss, readGates: readGatesFromBilling });
  return {
    pool,
    boss,
    tenant,
    dispatch,
    async close() {
      await boss.stop({ graceful: false }).catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

export async function hotConversation(
  engine: Engine,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const caller = callerPool('628')(0);
  return closedLoop({
    meter: sqlStatements,
    concurrency,
    durationMs,
    warmupMs: 500,
    task: async () => {
      const sid = newSid('SM');
      const at = new Date().toISOString();
      await engine.dispatch(
        engine.tenant.id,
        { caller },
        { type: 'InboundSms', messageSid: sid, body: INBOUND_BODY, mediaCount: 0, at },
        {
          correlationId: randomUUID(),
          causationId: sid,
          webhook: { provider: 'twilio', key: `sms:${sid}` },
          record: async ({ client, tenant, conversation }) => {
            await insertMessage(client, {
              tenantId: tenant.id,
              id: randomUUID(),
              conversationId: conversation.id,
              direction: 'in',
              participant: 'caller',
              body: INBOUND_BODY,
              status: 'received',
              providerSid: sid,
              at,
            });
          },
        },
      );
    },
  });
}

export async function manyConversations(
  engine: Engine,
  conversations: number,
  concurrency: number,
  maxDurationMs: number,
): Promise<LoadResult> {
  const caller = callerPool('415');
  // Warm the pool's connections and the code paths on a few callers outside the measured set.
  const warmCaller = callerPool('510');
  for (let i = 0; i < 2 * concurrency; i++) await missedCall(engine, warmCaller(i));
  return closedLoop({
    meter: sqlStatements,
    concurrency,
    durationMs: maxDurationMs,
    maxOps: conversations,
    task: (i) => missedCall(engine, caller(i)),
  });
}

async function missedCall(engine: Engine, caller: string): Promise<void> {
  const callSid = newSid('CA');
  const result = await engine.dispatch(
    engine.tenant.id,
    { caller },
    { type: 'MissedCall', callSid, at: new Date().toISOString() },
    {
      correlationId: randomUUID(),
      causationId: callSid,
      webhook: { provider: 'twilio', key: `dial-status:${callSid}` },
    },
  );
  if (result.messageIds.length !== 1)
    throw new Error(`missed call texted ${result.messageIds.length} messages`);
}
