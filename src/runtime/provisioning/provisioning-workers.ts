import type { PgBoss } from 'pg-boss';
import { QUEUES } from '../job-queues.ts';
import { convergeTenant } from './converge.ts';
import type { ProvisioningDeps } from './provisioning-deps.ts';
import type { ConvergeJob, ReconcileJob } from './provisioning-jobs.ts';
import { reconcileAll } from './reconcile.ts';

// The provisioning workers: convergence runs (woken at commit by NOTIFY, or when a scheduled
// retry or review poll is due) and the daily reconciliation (pg-boss runs each cron occurrence
// once across all processes).

export async function startProvisioningWorkers(
  boss: PgBoss,
  deps: ProvisioningDeps,
): Promise<{ stop(): Promise<void> }> {
  await boss.work<ConvergeJob>(
    QUEUES.provisioningConverge,
    // A retry or a review poll is a deferred job: no NOTIFY announces it when it falls due, so the
    // worker also polls every second.
    { pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1, localConcurrency: 2 },
    async (jobs) => {
      for (const job of jobs) await convergeTenant(deps, job.data.tenant_id, `converge:${job.id}`);
    },
  );
  await boss.schedule(QUEUES.provisioningReconcile, '41 3 * * *', {} satisfies ReconcileJob, {
    key: 'daily',
  });
  await boss.work<ReconcileJob>(
    QUEUES.provisioningReconcile,
    { pollingIntervalSeconds: 30 },
    async (jobs) => {
      for (const job of jobs) {
        const report = await reconcileAll(deps, {
          ...(job.data.tenant_id ? { tenantId: job.data.tenant_id } : {}),
          ...(job.data.repair === undefined ? {} : { repairSafe: job.data.repair }),
        });
        deps.logger.info({ tenants: report.tenants, drift: report.findings.length }, 'reconciliation run');
      }
    },
  );
  return {
    async stop() {
      await boss.offWork(QUEUES.provisioningConverge).catch(() => undefined);
      await boss.offWork(QUEUES.provisioningReconcile).catch(() => undefined);
    },
  };
}
