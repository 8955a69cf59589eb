import { isQuietAt } from '../../domain/reminder-schedule.ts';
import type { Pool } from '../../persistence/db.ts';
import { getService } from '../../persistence/repositories/catalog.ts';
import { findConversation } from '../../persistence/repositories/conversations.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findReservation } from '../../persistence/repositories/scheduling/holds.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import type { Dispatch } from '../dispatch.ts';
import type { ReminderJob } from './schedule-reminders.ts';

// A reminder job, when it fires: only for an appointment that still stands at the start it was
// planned for (cancelled or moved: nothing), never inside quiet hours (a job that ran late into
// them is dropped), and then as an event to the customer's conversation, where the machine decides
// under the same guards as every automatic text (campaign, opt-out, feature gates) and the send
// worker checks them again. The customer is the public page's customer or the conversation's
// caller; an appointment with neither (an operator's booking without a customer) gets none.

export type ReminderOutcome = 'sent' | 'stale' | 'quiet_hours' | 'no_customer';

export type ReminderDeps = {
  db: Pool;
  dispatch: Dispatch;
  /** The customer's page for the booking, or null (src/runtime/portal). */
  linkFor?: (input: { tenantId: string; appointmentId: string; phone: string }) => Promise<string | null>;
  now?: () => number;
};

export async function sendReminder(deps: ReminderDeps, job: ReminderJob): Promise<ReminderOutcome> {
  const nowMs = (deps.now ?? Date.now)();
  const appointment = await findReservation(deps.db, job.tenant_id, job.appointment_id);
  if (
    appointment?.kind !== 'appointment' ||
    appointment.status !== 'live' ||
    Date.parse(appointment.start) !== Date.parse(job.start) ||
    Date.parse(appointment.start) <= nowMs
  ) {
    return 'stale';
  }
  const tenant = await findTenantById(deps.db, job.tenant_id);
  if (!tenant) return 'stale';
  const policy = await loadPolicy(deps.db, tenant.id);
  const quiet = {
    startMinute: policy['reminders.quiet_start_minute'],
    endMinute: policy['reminders.quiet_end_minute'],
  };
  if (isQuietAt(nowMs, tenant.time_zone, quiet)) return 'quiet_hours';
  const phone =
    appointment.customer_phone ??
    (appointment.conversation_id
      ? ((await findConversation(deps.db, tenant.id, appointment.conversation_id))?.caller ?? null)
      : null);
  if (phone === null) return 'no_customer';
  const service = await getService(deps.db, tenant.id, appointment.service_id);
  const link = (await deps.linkFor?.({ tenantId: tenant.id, appointmentId: appointment.id, phone })) ?? null;
  const key = `reminder:${appointment.id}:${job.start}:${job.offset_minutes}`;
  await deps.dispatch(
    tenant.id,
    { caller: phone },
    {
      type: 'AppointmentReminderDue',
      appointmentId: appointment.id,
      serviceId: appointment.service_id,
      serviceName: service?.name ?? 'appointment',
      slot: { resourceId: appointment.resource_id, start: appointment.start, end: appointment.end },
      offsetMinutes: job.offset_minutes,
      link,
      at: new Date(nowMs).toISOString(),
    },
    { correlationId: key, idempotencyKey: key },
  );
  return 'sent';
}
