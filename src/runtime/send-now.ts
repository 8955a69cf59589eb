import type { PgBoss } from 'pg-boss';
import type { Logger } from '../observability/logger.ts';
import type { Pool } from '../persistence/db.ts';
import { BOSS_SCHEMA } from './boss.ts';
import { QUEUES } from './job-queues.ts';
import type { SendJob } from './send-sms.ts';

// Send right after commit. The process whose transaction queued a text claims that text's send job
// and sends it at once, instead of waiting for a worker to fetch it. The job stays the durable
// fallback: it was committed with the message, so if this process is busy (too many sends in
// flight) or dies after the claim, a worker sends it — a claimed job that is never completed expires
// (`expireInSeconds` of the queue) and pg-boss hands it out again, and the send worker then checks
// the provider before sending (src/runtime/send-sms.ts). The claim is the same conditional UPDATE
// pg-boss's own fetch makes (state below `active` → `active`), so exactly one of this process and
// the workers holds the job: the other's claim finds it taken (row locks serialise the two).

export type QueuedSend = { jobId: string; job: SendJob };
export type SendNow = (sends: readonly QueuedSend[]) => void;

export type SendNowDeps = {
  db: Pool;
  boss: PgBoss;
  send: (job: SendJob) => Promise<unknown>;
  logger: Logger;
  /** Sends in flight in this process beyond which new ones are left to the workers. */
  maxInFlight?: number;
};

export function createSendNow(deps: SendNowDeps): SendNow & { idle(): Promise<void> } {
  const maxInFlight = deps.maxInFlight ?? 16;
  const inFlight = new Set<Promise<void>>();
  let claimSql: Promise<string> | null = null;

  // The queue's job table (pg-boss may keep a queue in a table of its own), read once.
  function claimStatement(): Promise<string> {
    claimSql ??= deps.boss.getQueue(QUEUES.smsSend).then((queue) => {
      const table = `${BOSS_SCHEMA}.${queue?.table ?? 'job'}`;
      return `UPDATE ${table} SET state = 'active', started_on = ${BOSS_SCHEMA}.job_now(),
                heartbeat_on = ${BOSS_SCHEMA}.job_now(),
                retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END
              WHERE name = $1 AND id = $2 AND state < 'active' AND start_after <= ${BOSS_SCHEMA}.job_now()
              RETURNING retry_count`;
    });
    claimSql.catch(() => {
      claimSql = null;
    });
    return claimSql;
  }

  async function sendOne({ jobId, job }: QueuedSend): Promise<void> {
    const { rows } = await deps.db.query<{ retry_count: number }>(await claimStatement(), [
      QUEUES.smsSend,
      jobId,
    ]);
    const claimed = rows[0];
    if (!claimed) return; // a worker has it
    const attempt = { id: jobId, retryCount: claimed.retry_count };
    try {
      await deps.send(job);
    } catch (err) {
      // As the worker does: pg-boss retries the job (its database went away, most likely).
      deps.logger.error({ err, job_id: jobId }, 'send job failed; pg-boss retries it');
      await deps.boss.fail(QUEUES.smsSend, attempt, { message: String((err as Error).message) });
      return;
    }
    await deps.boss.complete(QUEUES.smsSend, attempt, null);
  }

  const sendNow = (sends: readonly QueuedSend[]) => {
    for (const queued of sends) {
      if (inFlight.size >= maxInFlight) return; // the workers take the rest
      const running: Promise<void> = sendOne(queued)
        .catch((err: unknown) =>
          // Not claimed, or claimed and not settled: either way the job is still there for a worker.
          deps.logger.warn({ err, job_id: queued.jobId }, 'immediate send did not run; a worker sends it'),
        )
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
  };
  return Object.assign(sendNow, {
    /** Resolves when the sends in flight have settled (shutdown). */
    idle: async () => {
      await Promise.allSettled([...inFlight]);
    },
  });
}
