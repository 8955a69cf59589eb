import {
  APPOINTMENT_EVENTS,
  type AppointmentEvent,
  type AppointmentFacts,
  appointmentContributions,
  appointmentIdsOf,
  CONVERSATION_STEP_BY_EVENT,
  conversationContributions,
  difference,
  mergeAppointmentEvent,
  mergeAppointmentReminder,
  mergeConversationStep,
  REMINDER_EVENT,
} from '../../domain/report-contributions.ts';
import type { Queryable } from '../../persistence/db.ts';
import {
  addToDays,
  type JournalEvent,
  lockAppointmentFacts,
  lockConversationFacts,
  saveAppointmentFacts,
  saveConversationFacts,
} from '../../persistence/repositories/reports.ts';

// Folds one journalled event into the reporting read models, inside the caller's transaction: lock
// the fact row(s) it touches, merge (src/domain/report-contributions.ts), and add to the local days
// exactly what the row's change adds. The live subscriber and the rebuild both come through here,
// which is why a rebuild lands on the live numbers.

const isAppointmentEvent = (name: string): name is AppointmentEvent['event_name'] =>
  (APPOINTMENT_EVENTS as readonly string[]).includes(name);

export async function applyReportEvent(
  client: Queryable,
  event: JournalEvent,
  timeZone: string,
): Promise<void> {
  const step = CONVERSATION_STEP_BY_EVENT[event.event_name];
  if (step !== undefined) {
    const conversationId = event.payload.conversation_id;
    if (typeof conversationId !== 'string') return;
    const before = await lockConversationFacts(client, event.tenant_id, conversationId);
    const after = mergeConversationStep(before, step, event.occurred_at);
    if (after[step] === before[step]) return;
    await saveConversationFacts(client, event.tenant_id, conversationId, after);
    await addToDays(
      client,
      event.tenant_id,
      difference(conversationContributions(before, timeZone), conversationContributions(after, timeZone)),
    );
    return;
  }
  if (event.event_name === REMINDER_EVENT) {
    const appointmentId = event.payload.appointment_id;
    if (typeof appointmentId !== 'string') return;
    await updateAppointmentFacts(client, event.tenant_id, appointmentId, timeZone, (before) => {
      const after = mergeAppointmentReminder(before, event.occurred_at);
      return after.reminded_at === before.reminded_at ? null : after;
    });
    return;
  }
  if (!isAppointmentEvent(event.event_name)) return;
  // The payload kept to the catalog's appointment facts when it was written (src/runtime/outbox.ts).
  const appointmentEvent: AppointmentEvent = {
    ...event,
    event_name: event.event_name,
    payload: event.payload as AppointmentEvent['payload'],
  };
  // Rows in id order: two events of one chain applied at once lock them in the same order.
  for (const id of appointmentIdsOf(appointmentEvent).sort()) {
    await updateAppointmentFacts(client, event.tenant_id, id, timeZone, (before) =>
      mergeAppointmentEvent(id, before, appointmentEvent),
    );
  }
}

/** Locks an appointment's fact row, merges into it (null: nothing changes) and moves its days by the difference. */
async function updateAppointmentFacts(
  client: Queryable,
  tenantId: string,
  appointmentId: string,
  timeZone: string,
  merge: (before: AppointmentFacts) => AppointmentFacts | null,
): Promise<void> {
  const before = await lockAppointmentFacts(client, tenantId, appointmentId);
  const after = merge(before);
  if (after === null) return;
  await saveAppointmentFacts(client, tenantId, appointmentId, after);
  await addToDays(
    client,
    tenantId,
    difference(appointmentContributions(before, timeZone), appointmentContributions(after, timeZone)),
  );
}
