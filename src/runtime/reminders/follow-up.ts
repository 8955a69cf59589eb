import { isQuietAt } from '../../domain/reminder-schedule.ts';
import type { Pool } from '../../persistence/db.ts';
import { findConversation } from '../../persistence/repositories/conversations.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findReservation } from '../../persistence/repositories/scheduling/holds.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import type { Dispatch } from '../dispatch.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';

// The optional thank-you text after an appointment is completed (`outcomes.follow_up_enabled`,
// off by default; the text is the tenant's `followUp` template). It goes to the customer's
// conversation as an event, under the machine's guards, once per appointment (the idempotency key),
// and not at all when the completion lands in quiet hours.

export function followUpSubscriber(deps: { db: Pool; dispatch: Dispatch; now?: () => number }): Subscriber {
  const now = deps.now ?? Date.now;
  return {
    name: 'follow-up',
    events: ['nmc.scheduling.AppointmentOutcomeMarked'],
    handle: async (event) => {
      if (event.payload.outcome !== 'completed') return;
      const policy = await loadPolicy(deps.db, event.tenant_id);
      if (!policy['outcomes.follow_up_enabled']) return;
      const tenant = await findTenantById(deps.db, event.tenant_id);
      if (!tenant) return;
      const quiet = {
        startMinute: policy['reminders.quiet_start_minute'],
        endMinute: policy['reminders.quiet_end_minute'],
      };
      const nowMs = now();
      if (isQuietAt(nowMs, tenant.time_zone, quiet)) return;
      const appointmentId = String(event.payload.appointment_id);
      const appointment = await findReservation(deps.db, tenant.id, appointmentId);
      if (appointment?.outcome !== 'completed') return;
      const phone =
        appointment.customer_phone ??
        (appointment.conversation_id
          ? ((await findConversation(deps.db, tenant.id, appointment.conversation_id))?.caller ?? null)
          : null);
      if (phone === null) return;
      const key = `follow-up:${appointmentId}`;
      await deps.dispatch(
        tenant.id,
        { caller: phone },
        { type: 'AppointmentCompleted', appointmentId, at: new Date(nowMs).toISOString() },
        { correlationId: key, causationId: event.event_id, idempotencyKey: key },
      );
    },
  };
}
