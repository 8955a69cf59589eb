import type { PgBoss } from 'pg-boss';
import type { Queryable } from '../../persistence/db.ts';
import { bossDb } from '../boss.ts';
import { QUEUES } from '../job-queues.ts';

// Convergence runs as pg-boss jobs on a `stately` queue keyed by tenant: at most one run of a
// tenant is queued and one active, so ten changes in a row make one more run, not ten. A wake-up
// that finds a run already queued for later moves that run earlier instead of being dropped.

export type ConvergeJob = { tenant_id: string };
export type ReconcileJob = { tenant_id?: string; repair?: boolean };

type JobSender = Pick<PgBoss, 'send'> & Partial<Pick<PgBoss, 'findJobs' | 'update'>>;

/**
 * Makes sure a convergence run of the tenant starts no later than `at` (default now). With `db`
 * (a client inside the caller's transaction) the job commits with the caller's change.
 */
export async function scheduleConvergence(
  boss: JobSender,
  tenantId: string,
  when?: Date,
  db?: Queryable,
): Promise<void> {
  const at = when ?? new Date();
  // "Now" is the database's: a start time from this process's clock may lie ahead of it.
  const options = {
    singletonKey: tenantId,
    ...(when ? { startAfter: when } : {}),
    ...(db ? { db: bossDb(db) } : {}),
  };
  const id = await boss.send(
    QUEUES.provisioningConverge,
    { tenant_id: tenantId } satisfies ConvergeJob,
    options,
  );
  if (id !== null || !boss.findJobs || !boss.update) return;
  const queued = await boss.findJobs(QUEUES.provisioningConverge, { key: tenantId, queued: true, limit: 5 });
  if (queued.some((job) => new Date(job.startAfter).getTime() <= at.getTime())) return;
  await boss.update(QUEUES.provisioningConverge, undefined, {
    singletonKey: tenantId,
    startAfter: at,
    match: 'all',
  });
}
