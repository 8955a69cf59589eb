import { randomUUID } from 'node:crypto';
import { backoffCeilingMs, backoffDelayMs } from '../../src/domain/backoff.ts';
import { createPool } from '../../src/persistence/db.ts';
import { migrate } from '../../src/persistence/migrate.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { createTwilioClient } from '../../src/providers/twilio/client.ts';
import { startTwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createDispatch } from '../../src/runtime/dispatch.ts';
import { ensureQueues, QUEUES } from '../../src/runtime/job-queues.ts';
import { createSmsSender, replayDeadSends, type SendJob } from '../../src/runtime/send-sms.ts';
import { callerNumbers, fileLogger, type RunContext, type ScenarioResult, seededRandom } from './common.ts';

// Scenario 4 — the sandbox Twilio answers 429, 500 and timeouts. The send worker's function
// (createSmsSender) is called by hand with each job it enqueues, as
// test/integration/runtime/send-sms.test.ts does, with a seeded `random` whose draws are recorded:
// every retry's delay must be the backoff formula random(0, min(30 s, 1 s·2^attempt)) for the draw,
// at most 6 attempts, then the dead-letter queue, and replayDeadSends must deliver.

const CLIENT_TIMEOUT_MS = 400;
const TOLERANCE_MS = 300;

type JobRow = { id: string; data: SendJob; start_after: Date; created_on: Date; state: string };

export async function runTwilioFaults(ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  let ok = true;
  const url = await ctx.database('twilio');
  const db = createPool(url, { max: 6 });
  const log = fileLogger(ctx, 'twilio-faults');
  const boss = createBoss({ connectionString: url, supervise: false, max: 4 });
  boss.on('error', (err) => log.logger.error({ err }, 'job queue error'));
  const sandbox = await startTwilioSandbox({ ...SANDBOX_ACCOUNT, delivery: false, logger: log.logger });
  try {
    await migrate(db);
    const tenant = await seedDemo(db);
    await boss.start();
    await ensureQueues(boss);
    const dispatch = createDispatch({ db, boss, readGates: readGatesFromBilling });
    const draws: number[] = [];
    const base = seededRandom(4242);
    const random = () => {
      const r = base();
      draws.push(r);
      return r;
    };
    const send = createSmsSender({
      db,
      boss,
      twilio: createTwilioClient({
        ...SANDBOX_ACCOUNT,
        apiBaseUrl: sandbox.url,
        timeoutMs: CLIENT_TIMEOUT_MS,
      }),
      publicBaseUrl: 'http://127.0.0.1:9',
      readGates: readGatesFromBilling,
      dispatch,
      logger: log.logger,
      random,
    });
    const callers = callerNumbers('415', 4, 404);

    async function queuedGreeting(
      caller: string,
    ): Promise<{ messageId: string; conversationId: string; job: SendJob }> {
      const result = await dispatch(
        tenant.id,
        { caller },
        {
          type: 'MissedCall',
          callSid: `CA${randomUUID().replaceAll('-', '')}`,
          at: new Date().toISOString(),
        },
        { correlationId: `faults-${randomUUID()}` },
      );
      const messageId = result.messageIds[0];
      if (!messageId) throw new Error('the missed call queued no greeting');
      return {
        messageId,
        conversationId: result.conversationId,
        job: { tenant_id: tenant.id, message_id: messageId, attempt: 1 },
      };
    }
    const jobsFor = async (queue: string, messageId: string) =>
      (
        await db.query<JobRow>(
          `SELECT id, data, start_after, created_on, state FROM pgboss.job WHERE name = $1 AND data->>'message_id' = $2 ORDER BY created_on, id`,
          [queue, messageId],
        )
      ).rows;
    const requestsTo = (caller: string) =>
      sandbox.requests().filter((r) => r.method === 'POST' && r.params.To === caller).length;
    const messagesTo = (caller: string) => sandbox.messages().filter((m) => m.to === caller).length;

    /** Runs attempt after attempt, scripting `faults[i]` before attempt i+1, following the jobs the sender enqueues. */
    async function drive(caller: string, faults: Array<'429' | '500' | 'timeout' | null>) {
      const { messageId, conversationId, job } = await queuedGreeting(caller);
      const outcomes: string[] = [];
      const delays: Array<{ attempt: number; delayMs: number; ceilingMs: number; expectedMs: number }> = [];
      let current: SendJob = job;
      for (let i = 0; i < faults.length + 1 && i < 10; i++) {
        const fault = faults[i] ?? null;
        if (fault === '429') sandbox.failNext(1, { status: 429 });
        if (fault === '500') sandbox.failNext(1, { status: 500 });
        if (fault === 'timeout') sandbox.delayNext(1, CLIENT_TIMEOUT_MS * 3);
        const drawsBefore = draws.length;
        const outcome = await send(current);
        outcomes.push(outcome);
        if (outcome !== 'retry_scheduled') break;
        const next = (await jobsFor(QUEUES.smsSend, messageId)).find(
          (j) => j.data.attempt === current.attempt + 1,
        );
        if (!next) throw new Error(`no job for attempt ${current.attempt + 1}`);
        const draw = draws[drawsBefore];
        if (draw === undefined)
          throw new Error('the sender scheduled a retry without drawing a random number');
        const delayMs = next.start_after.getTime() - next.created_on.getTime();
        delays.push({
          attempt: current.attempt,
          delayMs,
          ceilingMs: Math.min(30_000, 1000 * 2 ** (current.attempt - 1)),
          expectedMs: backoffDelayMs(current.attempt - 1, () => draw),
        });
        current = next.data;
      }
      return { messageId, conversationId, outcomes, delays };
    }

    function checkDelays(
      label: string,
      delays: Array<{ attempt: number; delayMs: number; ceilingMs: number; expectedMs: number }>,
    ) {
      for (const d of delays) {
        const withinFormula = d.delayMs >= -TOLERANCE_MS && d.delayMs <= d.ceilingMs + TOLERANCE_MS;
        const matchesDraw = Math.abs(d.delayMs - d.expectedMs) <= TOLERANCE_MS;
        if (!withinFormula || !matchesDraw || backoffCeilingMs(d.attempt - 1) !== d.ceilingMs) {
          ok = false;
          findings.push(
            `${label}: retry after attempt ${d.attempt} delayed ${d.delayMs} ms; formula ceiling ${d.ceilingMs} ms, expected ${d.expectedMs} ms for the draw`,
          );
        }
      }
    }
    const fmtDelays = (delays: Array<{ delayMs: number; ceilingMs: number }>) =>
      delays.map((d) => `${Math.max(0, d.delayMs)}/${d.ceilingMs}`).join(', ');

    // A: 429, 429, 500, timeout, then success.
    {
      const caller = callers[0] as string;
      const run = await drive(caller, ['429', '429', '500', 'timeout']);
      checkDelays('429/500/timeout', run.delays);
      await new Promise((r) => setTimeout(r, CLIENT_TIMEOUT_MS * 3 + 200)); // the delayed request completes at the sandbox
      const attempts = requestsTo(caller);
      const delivered = messagesTo(caller);
      const last = run.outcomes.at(-1);
      // Four creates: the fourth timed out at the client but was accepted, so its retry finds the
      // message at the provider (a list request) instead of creating it again.
      if (last !== 'sent' || attempts !== 4 || delivered !== 1) {
        ok = false;
        findings.push(
          `429/500/timeout: outcomes ${run.outcomes.join(' → ')}, ${attempts} create requests (expected 4), ${delivered} SMS delivered (expected 1)`,
        );
      }
      figures.push(
        `429,429,500,timeout→sent: ${attempts} attempts; delays ms (actual/ceiling) ${fmtDelays(run.delays)}`,
      );
      if (delivered > 1) {
        findings.push(
          `timeout ambiguity: the request that timed out client-side (${CLIENT_TIMEOUT_MS} ms) was still accepted by the provider, and the retry sent the text again: ${delivered} SMS reached the caller for one message`,
        );
      }
      figures.push(`timeout duplicates at the provider: ${Math.max(0, delivered - 1)}`);
    }

    // B: six 500s → dead letter after the 6th attempt; the replay delivers.
    {
      const caller = callers[1] as string;
      const run = await drive(caller, ['500', '500', '500', '500', '500', '500']);
      checkDelays('6×500', run.delays);
      const attempts = requestsTo(caller);
      const jobs = await jobsFor(QUEUES.smsSend, run.messageId);
      const seventh = jobs.filter((j) => j.data.attempt > 6).length;
      const dead = await jobsFor(QUEUES.smsSendDead, run.messageId);
      const { rows } = await db.query<{ status: string; failure_reason: string | null; attempts: number }>(
        'SELECT status, failure_reason, attempts FROM conv_messages WHERE tenant_id = $1 AND id = $2',
        [tenant.id, run.messageId],
      );
      const row = rows[0];
      const replayed = await replayDeadSends(db, boss);
      const { rows: clones } = await db.query<{ id: string }>(
        `SELECT id FROM conv_messages WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'out' AND id <> $3`,
        [tenant.id, run.conversationId, run.messageId],
      );
      let replayOutcome = 'none';
      const clone = clones[0];
      if (clone) {
        const replayJob = (await jobsFor(QUEUES.smsSend, clone.id))[0];
        if (replayJob) replayOutcome = await send(replayJob.data);
      }
      const delivered = messagesTo(caller);
      const problems: string[] = [];
      if (run.outcomes.at(-1) !== 'dead_lettered') problems.push(`last outcome ${run.outcomes.at(-1)}`);
      if (attempts !== 6) problems.push(`${attempts} provider requests (expected 6)`);
      if (seventh > 0) problems.push('a 7th attempt was scheduled');
      if (dead.length !== 1) problems.push(`${dead.length} dead-letter jobs (expected 1)`);
      if (row?.status !== 'failed' || row.failure_reason !== 'retries_exhausted')
        problems.push(`message ${row?.status}/${row?.failure_reason}`);
      if (replayed !== 1 || replayOutcome !== 'sent' || delivered !== 1)
        problems.push(`replay: ${replayed} replayed, outcome ${replayOutcome}, ${delivered} SMS delivered`);
      if (problems.length > 0) {
        ok = false;
        findings.push(`6×500: ${problems.join('; ')}`);
      }
      figures.push(
        `6×500: ${attempts} attempts → ${run.outcomes.at(-1)}, DLQ ${dead.length}, 7th attempt ${seventh}; replayDeadSends ${replayed} → ${replayOutcome}, delivered ${delivered}`,
      );
      figures.push(`6×500 delays ms (actual/ceiling): ${fmtDelays(run.delays)}`);
    }

    // C: a long provider outage of 429s (rate limited): same bound, same dead letter.
    {
      const caller = callers[2] as string;
      const run = await drive(caller, ['429', '429', '429', '429', '429', '429', '429']);
      checkDelays('7×429', run.delays);
      const attempts = requestsTo(caller);
      if (attempts > 6 || run.outcomes.at(-1) !== 'dead_lettered') {
        ok = false;
        findings.push(`429 storm: ${attempts} attempts, last outcome ${run.outcomes.at(-1)}`);
      }
      figures.push(`429 storm: ${attempts} attempts → ${run.outcomes.at(-1)}`);
    }
  } finally {
    await sandbox.close().catch(() => undefined);
    await boss.stop({ graceful: false }).catch(() => undefined);
    await db.end().catch(() => undefined);
    await log.close();
  }
  return {
    scenario: '4 twilio',
    verdict: ok ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}
