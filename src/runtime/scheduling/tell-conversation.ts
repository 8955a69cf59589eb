import type { Pool } from '../../persistence/db.ts';
import { findConversation, peekActiveConversation } from '../../persistence/repositories/conversations.ts';
import { findReservation } from '../../persistence/repositories/scheduling/holds.ts';
import type { Dispatch } from '../dispatch.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';

// An appointment cancelled or moved outside the conversation (an operator through the API, the
// customer's page, a change in the calendar) is told to the customer's conversation, so the
// dialogue stops believing in it: nmc.scheduling.AppointmentCancelled / AppointmentRescheduled
// become AppointmentCancelledElsewhere / AppointmentMovedElsewhere, one dispatch (one transaction)
// per event, keyed by the event's id so a redelivery applies once. The conversation is the
// customer's open one (the public page's customer, or the caller of the conversation that booked
// it): a reminder may have adopted the appointment into a newer conversation than the one that
// booked it. None is started for the news. Changes the dialogue made itself arrive too; the machine
// ignores them, as it no longer holds the old appointment.

const CANCELLED = 'nmc.scheduling.AppointmentCancelled';
const RESCHEDULED = 'nmc.scheduling.AppointmentRescheduled';

export function appointmentChangeSubscriber(deps: { db: Pool; dispatch: Dispatch }): Subscriber {
  return {
    name: 'conversation-appointments',
    events: [CANCELLED, RESCHEDULED],
    handle: async (event) => {
      const p = event.payload;
      const changedId = event.event_name === RESCHEDULED ? p.previous_id : p.appointment_id;
      if (typeof changedId !== 'string' || typeof p.appointment_id !== 'string') return;
      const tenantId = event.tenant_id;
      const appointment = await findReservation(deps.db, tenantId, changedId);
      const conversationId =
        appointment?.conversation_id ?? (typeof p.conversation_id === 'string' ? p.conversation_id : null);
      const phone =
        appointment?.customer_phone ??
        (conversationId
          ? ((await findConversation(deps.db, tenantId, conversationId))?.caller ?? null)
          : null);
      if (phone === null) return;
      const conversation = await peekActiveConversation(deps.db, tenantId, phone);
      if (conversation === null) return;
      const at = new Date().toISOString();
      await deps.dispatch(
        tenantId,
        { conversationId: conversation.id },
        event.event_name === RESCHEDULED
          ? {
              type: 'AppointmentMovedElsewhere',
              appointmentId: p.appointment_id,
              previousId: changedId,
              slot: { resourceId: String(p.resource_id), start: String(p.start), end: String(p.end) },
              at,
            }
          : { type: 'AppointmentCancelledElsewhere', appointmentId: changedId, at },
        {
          correlationId: event.correlation_id,
          causationId: event.event_id,
          idempotencyKey: `appointment-change:${event.event_id}`,
        },
      );
    },
  };
}
