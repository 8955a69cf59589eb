import { createHash } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { reminderTimes } from '../../domain/reminder-schedule.ts';
import type { Pool } from '../../persistence/db.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { QUEUES } from '../job-queues.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';

// Schedules an appointment's reminders when it is booked or moved (the scheduling events), at the
// policy's offsets, outside quiet hours (src/domain/reminder-schedule.ts). Each job's id is derived
// from the appointment, its start and the offset, so the event delivered twice schedules once. A
// moved appointment is a new id with a new start: the old one's jobs find it no longer stands and
// send nothing (src/runtime/reminders/send-reminder.ts), and neither do a cancelled one's.

export type ReminderJob = {
  tenant_id: string;
  appointment_id: string;
  /** The start the reminder was planned for: a job for another start is stale. */
  start: string;
  offset_minutes: number;
};

/** A UUID that is a function of the key: the job's identity, so one key makes one job. */
export function jobIdFor(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function reminderScheduler(deps: { db: Pool; boss: PgBoss; now?: () => number }): Subscriber {
  const now = deps.now ?? Date.now;
  return {
    name: 'reminders',
    events: ['nmc.scheduling.AppointmentBooked', 'nmc.scheduling.AppointmentRescheduled'],
    handle: async (event) => {
      const appointmentId = String(event.payload.appointment_id);
      const start = String(event.payload.start);
      const tenant = await findTenantById(deps.db, event.tenant_id);
      if (!tenant) return;
      const policy = await loadPolicy(deps.db, tenant.id);
      const times = reminderTimes({
        start,
        offsetsMinutes: policy['reminders.offsets_minutes'],
        timeZone: tenant.time_zone,
        quiet: {
          startMinute: policy['reminders.quiet_start_minute'],
          endMinute: policy['reminders.quiet_end_minute'],
        },
        nowMs: now(),
      });
      for (const time of times) {
        const job: ReminderJob = {
          tenant_id: tenant.id,
          appointment_id: appointmentId,
          start,
          offset_minutes: time.offsetMinutes,
        };
        await deps.boss.send(QUEUES.appointmentReminder, job, {
          id: jobIdFor(`reminder:${appointmentId}:${start}:${time.offsetMinutes}`),
          startAfter: new Date(time.sendAt),
        });
      }
    },
  };
}
