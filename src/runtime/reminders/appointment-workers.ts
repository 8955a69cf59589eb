import type { PgBoss } from 'pg-boss';
import type { Logger } from '../../observability/logger.ts';
import type { Pool } from '../../persistence/db.ts';
import { QUEUES } from '../job-queues.ts';
import { completePastAppointments } from '../scheduling/complete-past-appointments.ts';
import type { ReminderJob } from './schedule-reminders.ts';
import { type ReminderDeps, sendReminder } from './send-reminder.ts';

// The appointment-care queues' workers: reminders when due, and the sweep that completes
// appointments nobody marked (every 5 minutes; pg-boss runs each cron occurrence once across all
// processes).

export async function startAppointmentWorkers(
  boss: PgBoss,
  deps: ReminderDeps & { db: Pool; logger: Logger },
): Promise<{ stop(): Promise<void> }> {
  const polling = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 };
  await boss.work<ReminderJob>(QUEUES.appointmentReminder, polling, async (jobs) => {
    for (const job of jobs) {
      const outcome = await sendReminder(deps, job.data);
      deps.logger.info(
        { appointment_id: job.data.appointment_id, offset_minutes: job.data.offset_minutes, outcome },
        'appointment reminder',
      );
    }
  });
  await boss.schedule(QUEUES.appointmentSweep, '*/5 * * * *', {}, { key: 'appointment-sweep' });
  await boss.work(QUEUES.appointmentSweep, { pollingIntervalSeconds: 30 }, async () => {
    const result = await completePastAppointments(deps.db, (deps.now ?? Date.now)());
    if (result.completed > 0) deps.logger.info(result, 'appointments completed automatically');
  });
  return {
    async stop() {
      await boss.offWork(QUEUES.appointmentReminder).catch(() => undefined);
      await boss.offWork(QUEUES.appointmentSweep).catch(() => undefined);
    },
  };
}
