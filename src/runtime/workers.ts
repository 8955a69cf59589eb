import type { PgBoss } from 'pg-boss';
import type { TimerKind } from '../machines/conversation-events.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Pool } from '../persistence/db.ts';
import { inTransaction } from '../persistence/db.ts';
import { loadPlatformPolicy } from '../persistence/repositories/policy-values.ts';
import type { TenDlcProvider } from '../providers/ten-dlc/provider.ts';
import type { AlertReminderJob, AlertSendJob } from './alerts/plan-alert-round.ts';
import type { CalendarDeps } from './calendar/calendar-deps.ts';
import { startCalendarWorkers } from './calendar/calendar-workers.ts';
import type { Dispatch } from './dispatch.ts';
import { QUEUES } from './job-queues.ts';
import { createOutboxDispatcher, type Subscriber } from './outbox-dispatcher.ts';
import type { StatusPollJob } from './poll-sms-status.ts';
import type { LinkFor } from './portal/portal-links.ts';
import type { ProvisioningDeps } from './provisioning/provisioning-deps.ts';
import { startProvisioningWorkers } from './provisioning/provisioning-workers.ts';
import { startAppointmentWorkers } from './reminders/appointment-workers.ts';
import { runRetention } from './retention.ts';
import { expireHold, type HoldExpiryJob } from './scheduling/expire-hold.ts';
import type { SendJob } from './send-sms.ts';
import { pollPendingTenDlc } from './ten-dlc.ts';

// The worker side of the process (NMC_ROLE worker or all): the send worker, the conversation timers
// and the outbox dispatcher. Workers wake on NOTIFY when a job or an event is committed; polling is
// only the backstop.

type MaintenanceJob = { task: 'retention' | 'ten-dlc-poll' };
type TimerJob = { tenant_id: string; conversation_id: string; timer: TimerKind; token: number };

export type WorkerDeps = {
  db: Pool;
  boss: PgBoss;
  connectionString: string;
  dispatch: Dispatch;
  sendSms: (job: SendJob) => Promise<unknown>;
  pollSmsStatus: (job: StatusPollJob) => Promise<unknown>;
  /** Alert texts to the team and their reminders (src/runtime/alerts). */
  sendAlertText: (job: AlertSendJob) => Promise<unknown>;
  remindAlert: (job: AlertReminderJob) => Promise<unknown>;
  subscribers: Subscriber[];
  outboxBatchSize: number;
  tenDlc: TenDlcProvider;
  /** The customer's page link that reminders carry (src/runtime/portal). */
  appointmentLinks?: LinkFor;
  /** Calendar sync, push channels and write-back (src/runtime/calendar). */
  calendar?: CalendarDeps;
  /** Tenant convergence and the daily reconciliation (src/runtime/provisioning). */
  provisioning?: ProvisioningDeps;
  logger: Logger;
  metrics: Metrics;
};

export type Workers = { running(): boolean; stop(): Promise<void> };

export async function startWorkers(deps: WorkerDeps): Promise<Workers> {
  // Woken by NOTIFY at commit; a full batch keeps fetching at once (bursts of missed calls), and
  // the poll is only the backstop.
  const polling = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 };
  await deps.boss.work<SendJob>(
    QUEUES.smsSend,
    // A retried send (its worker died, or the provider failed) is not announced by NOTIFY: polled
    // every second, so it goes out within a second of becoming due.
    {
      ...polling,
      pollingIntervalSeconds: 1,
      notifyPollingIntervalSeconds: 1,
      localConcurrency: 2,
      batchSize: 8,
      burstWhenBatchFull: true,
      perJobResults: true,
    },
    // The sends of a batch run side by side, each settled on its own: one that throws (its
    // database went away) is retried by pg-boss without touching the others.
    async (jobs) =>
      Promise.all(
        jobs.map(async (job) => {
          try {
            await deps.sendSms(job.data);
            return { id: job.id, status: 'completed' as const };
          } catch (err) {
            deps.logger.error({ err, job_id: job.id }, 'send job failed; pg-boss retries it');
            return {
              id: job.id,
              status: 'failed' as const,
              output: { message: String((err as Error).message) },
            };
          }
        }),
      ),
  );
  // Every inbound text's reply waits on a burst timer, so a burst of texts is a burst of timers:
  // fetched eight at a time and fetched again at once while batches come back full (one job per
  // poll would answer a backlog at one reply a second). Each timer settles on its own; a retried
  // one is applied once (the dispatch's idempotency key).
  await deps.boss.work<TimerJob>(
    QUEUES.conversationTimer,
    { ...polling, localConcurrency: 2, batchSize: 8, burstWhenBatchFull: true, perJobResults: true },
    async (jobs) => {
      const results = [];
      for (const job of jobs) {
        try {
          await deps.dispatch(
            job.data.tenant_id,
            { conversationId: job.data.conversation_id },
            {
              type: 'InactivityTimeout',
              timer: job.data.timer,
              token: job.data.token,
              at: new Date().toISOString(),
            },
            { correlationId: job.id, causationId: job.id, idempotencyKey: `timer:${job.id}` },
          );
          results.push({ id: job.id, status: 'completed' as const });
        } catch (err) {
          deps.logger.error({ err, job_id: job.id }, 'timer job failed; pg-boss retries it');
          results.push({
            id: job.id,
            status: 'failed' as const,
            output: { message: String((err as Error).message) },
          });
        }
      }
      return results;
    },
  );
  await deps.boss.work<HoldExpiryJob>(
    QUEUES.holdExpiry,
    { ...polling, localConcurrency: 2 },
    async (jobs) => {
      for (const job of jobs) {
        const now = new Date().toISOString();
        const result = await inTransaction(deps.db, (client) =>
          expireHold(client, { tenantId: job.data.tenant_id, holdId: job.data.hold_id, now }),
        );
        if (result.pendingUntil) {
          // Ran early (clock skew between hosts): try again when the hold is due.
          await deps.boss.send(QUEUES.holdExpiry, job.data, { startAfter: new Date(result.pendingUntil) });
        } else if (result.released && result.conversationId) {
          // The conversation's assistant offers fresh times instead of going silent.
          await deps.dispatch(
            job.data.tenant_id,
            { conversationId: result.conversationId },
            { type: 'HoldExpired', holdId: job.data.hold_id, at: now },
            {
              correlationId: job.id,
              causationId: job.id,
              idempotencyKey: `hold-expired:${job.data.hold_id}`,
            },
          );
        }
      }
    },
  );
  await deps.boss.work<AlertSendJob>(QUEUES.alertSend, { ...polling, localConcurrency: 2 }, async (jobs) => {
    for (const job of jobs) await deps.sendAlertText(job.data);
  });
  await deps.boss.work<AlertReminderJob>(QUEUES.alertReminder, polling, async (jobs) => {
    for (const job of jobs) await deps.remindAlert(job.data);
  });
  await deps.boss.work<StatusPollJob>(QUEUES.smsStatusPoll, { pollingIntervalSeconds: 10 }, async (jobs) => {
    for (const job of jobs) await deps.pollSmsStatus(job.data);
  });
  // Scheduled upkeep: retention hourly, the 10DLC poll every 10 minutes (pg-boss runs each cron
  // occurrence once across all processes).
  await deps.boss.schedule(QUEUES.maintenance, '17 * * * *', { task: 'retention' }, { key: 'retention' });
  await deps.boss.schedule(
    QUEUES.maintenance,
    '*/10 * * * *',
    { task: 'ten-dlc-poll' },
    { key: 'ten-dlc-poll' },
  );
  await deps.boss.work<MaintenanceJob>(QUEUES.maintenance, { pollingIntervalSeconds: 30 }, async (jobs) => {
    for (const job of jobs) {
      if (job.data.task === 'retention') {
        const removed = await runRetention(deps.db, await loadPlatformPolicy(deps.db), new Date());
        deps.logger.info({ removed }, 'retention run');
      } else if (job.data.task === 'ten-dlc-poll') {
        await pollPendingTenDlc(deps.db, deps.tenDlc);
      }
    }
  });
  const calendarWorkers = deps.calendar ? await startCalendarWorkers(deps.boss, deps.calendar) : null;
  const provisioningWorkers = deps.provisioning
    ? await startProvisioningWorkers(deps.boss, deps.provisioning)
    : null;
  const appointmentWorkers = await startAppointmentWorkers(deps.boss, {
    db: deps.db,
    dispatch: deps.dispatch,
    logger: deps.logger,
    ...(deps.appointmentLinks ? { linkFor: deps.appointmentLinks } : {}),
  });
  const outbox = createOutboxDispatcher({
    db: deps.db,
    connectionString: deps.connectionString,
    subscribers: deps.subscribers,
    batchSize: deps.outboxBatchSize,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  await outbox.start();
  let running = true;
  return {
    running: () => running && outbox.running(),
    async stop() {
      running = false;
      await deps.boss.offWork(QUEUES.smsSend).catch(() => undefined);
      await deps.boss.offWork(QUEUES.conversationTimer).catch(() => undefined);
      await deps.boss.offWork(QUEUES.holdExpiry).catch(() => undefined);
      await deps.boss.offWork(QUEUES.maintenance).catch(() => undefined);
      await deps.boss.offWork(QUEUES.smsStatusPoll).catch(() => undefined);
      await deps.boss.offWork(QUEUES.alertSend).catch(() => undefined);
      await deps.boss.offWork(QUEUES.alertReminder).catch(() => undefined);
      await calendarWorkers?.stop();
      await provisioningWorkers?.stop();
      await appointmentWorkers.stop();
      await outbox.stop();
    },
  };
}
