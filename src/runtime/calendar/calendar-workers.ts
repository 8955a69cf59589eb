import type { PgBoss } from 'pg-boss';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { listBlockingLinks } from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { purgeEndedMirrorBlocks } from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { purgeJobberReceipts } from '../../persistence/repositories/scheduling/jobber-webhooks.ts';
import { QUEUES } from '../job-queues.ts';
import type { CalendarDeps } from './calendar-deps.ts';
import { reconcileCalendar } from './reconcile-calendar.ts';
import { sweepCalendars } from './sweep.ts';
import { runSyncJob, type SyncJob } from './sync-jobs.ts';
import { runWriteJob, type WriteJob } from './write-back.ts';

// The calendar queues' workers: syncs (two at a time), write-backs (one at a time, so the jobs of
// one appointment's changes do not overtake each other in this process), the sweep every minute and
// the nightly reconciliation and purge of ended busy blocks (pg-boss runs each cron occurrence once
// across all processes).

type SweepJob = { task: 'sweep' | 'reconcile' };

export async function startCalendarWorkers(
  boss: PgBoss,
  deps: CalendarDeps,
): Promise<{ stop(): Promise<void> }> {
  const polling = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 };
  await boss.work<SyncJob>(QUEUES.calendarSync, { ...polling, localConcurrency: 2 }, async (jobs) => {
    for (const job of jobs) await runSyncJob(deps, job.data);
  });
  await boss.work<WriteJob>(QUEUES.calendarWrite, polling, async (jobs) => {
    for (const job of jobs) await runWriteJob(deps, job.data);
  });
  await boss.schedule(QUEUES.calendarSweep, '* * * * *', { task: 'sweep' }, { key: 'calendar-sweep' });
  await boss.schedule(
    QUEUES.calendarSweep,
    '23 3 * * *',
    { task: 'reconcile' },
    { key: 'calendar-reconcile' },
  );
  await boss.work<SweepJob>(QUEUES.calendarSweep, { pollingIntervalSeconds: 10 }, async (jobs) => {
    for (const job of jobs) {
      if (job.data.task === 'sweep') {
        const result = await sweepCalendars(deps);
        if (result.calendars > 0) deps.logger.debug({ ...result }, 'calendar sweep');
      } else {
        // Busy time that ended a week ago blocks nothing any more; the mirror keeps what is ahead.
        await purgeEndedMirrorBlocks(deps.db, new Date(Date.now() - 7 * 86_400_000).toISOString());
        // Jobber webhook receipts (the calendar-sweep queue's nightly task): Jobber redelivers within
        // minutes, not weeks, so a week of them is plenty to dedupe.
        await purgeJobberReceipts(deps.db, new Date(Date.now() - 7 * 86_400_000).toISOString());
        for (const link of await listBlockingLinks(deps.db)) {
          const policy = await loadPolicy(deps.db, link.tenant_id);
          await reconcileCalendar(deps, {
            tenantId: link.tenant_id,
            calendarId: link.id,
            days: policy['calendar.horizon_days'],
            repair: true,
          }).catch((err: unknown) =>
            deps.logger.warn({ err, calendar_id: link.id }, 'calendar reconciliation failed'),
          );
        }
      }
    }
  });
  return {
    async stop() {
      await boss.offWork(QUEUES.calendarSync).catch(() => undefined);
      await boss.offWork(QUEUES.calendarWrite).catch(() => undefined);
      await boss.offWork(QUEUES.calendarSweep).catch(() => undefined);
    },
  };
}
