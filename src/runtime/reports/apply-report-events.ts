import {
  APPOINTMENT_EVENTS,
  type AppointmentEvent,
  type AppointmentFacts,
  appointmentContributions,
  appointmentIdsOf,
  CONVERSATION_STEP_BY_EVENT,
  type Contribution,
  type ConversationFacts,
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
  type DayTotals,
  type FactKey,
  factKey,
  type JournalEvent,
  lockAppointmentFacts,
  lockConversationFacts,
  saveFacts,
} from '../../persistence/repositories/reports.ts';

// Folds journalled events into the reporting read models, inside the caller's transaction, in a
// number of statements that does not grow with the events: lock every fact row they touch (one
// statement per kind), merge in memory in event order (src/domain/report-contributions.ts), save
// the rows that changed (one statement) and add to the local days what those changes add (one
// statement). A row's contributions are a function of the row, so the sum of its per-event
// differences is the difference between its first and last state: a batch lands on exactly what
// applying its events one by one does. The live subscriber and the rebuild both come through here,
// which is why a rebuild lands on the live numbers.

const isAppointmentEvent = (name: string): name is AppointmentEvent['event_name'] =>
  (APPOINTMENT_EVENTS as readonly string[]).includes(name);

/** What one event changes: a conversation step, a reminder on an appointment, or appointment rows. */
type Change =
  | { kind: 'step'; key: FactKey; step: keyof ConversationFacts; at: string }
  | { kind: 'reminder'; key: FactKey; at: string }
  | { kind: 'appointment'; keys: FactKey[]; event: AppointmentEvent };

function changeOf(event: JournalEvent): Change | null {
  const step = CONVERSATION_STEP_BY_EVENT[event.event_name];
  if (step !== undefined) {
    const id = event.payload.conversation_id;
    return typeof id === 'string'
      ? { kind: 'step', key: { tenant_id: event.tenant_id, id }, step, at: event.occurred_at }
      : null;
  }
  if (event.event_name === REMINDER_EVENT) {
    const id = event.payload.appointment_id;
    return typeof id === 'string'
      ? { kind: 'reminder', key: { tenant_id: event.tenant_id, id }, at: event.occurred_at }
      : null;
  }
  if (!isAppointmentEvent(event.event_name)) return null;
  // The payload kept to the catalog's appointment facts when it was written (src/runtime/outbox.ts).
  const appointmentEvent: AppointmentEvent = {
    ...event,
    event_name: event.event_name,
    payload: event.payload as AppointmentEvent['payload'],
  };
  return {
    kind: 'appointment',
    keys: appointmentIdsOf(appointmentEvent).map((id) => ({ tenant_id: event.tenant_id, id })),
    event: appointmentEvent,
  };
}

/** Applies `events` (in order); an event of a tenant without a time zone in `zones` counts nothing. */
export async function applyReportEvents(
  client: Queryable,
  events: readonly JournalEvent[],
  zones: ReadonlyMap<string, string>,
): Promise<void> {
  const changes = events
    .filter((e) => zones.has(e.tenant_id))
    .map(changeOf)
    .filter((c): c is Change => c !== null);
  if (changes.length === 0) return;

  // Conversations before appointments, each in key order: every batch locks in the same order.
  const conversationKeys = changes.flatMap((c) => (c.kind === 'step' ? [c.key] : []));
  const appointmentKeys = changes.flatMap((c) =>
    c.kind === 'reminder' ? [c.key] : c.kind === 'appointment' ? c.keys : [],
  );
  const conversationsBefore = await lockConversationFacts(client, conversationKeys);
  const appointmentsBefore = await lockAppointmentFacts(client, appointmentKeys);

  const conversations = new Map(conversationsBefore);
  const appointments = new Map(appointmentsBefore);
  const row = <T>(rows: Map<string, T>, key: FactKey): [string, T] => {
    const k = factKey(key.tenant_id, key.id);
    const facts = rows.get(k);
    if (facts === undefined) throw new Error(`fact row ${k} was not locked`);
    return [k, facts];
  };
  for (const change of changes) {
    if (change.kind === 'step') {
      const [k, before] = row(conversations, change.key);
      conversations.set(k, mergeConversationStep(before, change.step, change.at));
    } else if (change.kind === 'reminder') {
      const [k, before] = row(appointments, change.key);
      appointments.set(k, mergeAppointmentReminder(before, change.at));
    } else {
      for (const key of change.keys) {
        const [k, before] = row(appointments, key);
        appointments.set(k, mergeAppointmentEvent(key.id, before, change.event));
      }
    }
  }

  const totals: DayTotals = new Map();
  const add = (tenantId: string, before: Contribution[], after: Contribution[]) => {
    const days = totals.get(tenantId) ?? new Map<string, Map<Contribution['field'], number>>();
    totals.set(tenantId, days);
    for (const [day, fields] of difference(before, after)) {
      const sums = days.get(day) ?? new Map<Contribution['field'], number>();
      days.set(day, sums);
      for (const [field, amount] of fields) sums.set(field, (sums.get(field) ?? 0) + amount);
    }
  };
  const changedConversations: (ConversationFacts & { tenant_id: string; conversation_id: string })[] = [];
  for (const [k, after] of conversations) {
    const before = conversationsBefore.get(k) as ConversationFacts;
    if (sameFacts(before, after)) continue;
    const [tenantId, id] = splitKey(k);
    const zone = zones.get(tenantId) as string;
    changedConversations.push({ ...after, tenant_id: tenantId, conversation_id: id });
    add(tenantId, conversationContributions(before, zone), conversationContributions(after, zone));
  }
  const changedAppointments: (AppointmentFacts & { tenant_id: string; appointment_id: string })[] = [];
  for (const [k, after] of appointments) {
    const before = appointmentsBefore.get(k) as AppointmentFacts;
    if (sameFacts(before, after)) continue;
    const [tenantId, id] = splitKey(k);
    const zone = zones.get(tenantId) as string;
    changedAppointments.push({ ...after, tenant_id: tenantId, appointment_id: id });
    add(tenantId, appointmentContributions(before, zone), appointmentContributions(after, zone));
  }
  await saveFacts(client, changedConversations, changedAppointments);
  await addToDays(client, totals);
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function sameFacts<T extends Record<string, unknown>>(a: T, b: T): boolean {
  return Object.keys(a).every((k) => a[k] === b[k]);
}
