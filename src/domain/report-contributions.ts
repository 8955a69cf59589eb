import { DateTime } from 'luxon';

// The reporting module's arithmetic, pure. Every counted event folds into one fact row (a
// conversation, or an appointment) with a merge that is commutative and idempotent (the earliest
// instant of a step; the latest outcome), so the rows settle to the same values in any arrival
// order. Each row contributes fixed amounts to the tenant's local days; the daily tables are the sum
// of the contributions, kept by applying `difference(before, after)` whenever a row changes. A
// rebuild that re-applies every event therefore lands on exactly the live numbers.
//
// What counts where (docs/reports.md):
// - missed, texted, replied, quoted, held: conversations that began with a missed call, each once,
//   on the local day it first reached the step; first response (missed → our first text accepted by
//   the provider) on the day of the missed call.
// - booked (+ revenue booked, at the price when booked): appointments made by a booking (a move keeps
//   the chain's one booking), on the day of the booking; cancelled on the day of the cancellation
//   (a move is not a cancellation).
// - reminded: appointments that got at least one reminder text (`ReminderSent`; a moved appointment
//   is a new one with its own reminders), on the day of the first.
// - completed (+ revenue kept) and no_show: on the local day of the appointment itself.
// - opted_out, taken_over (+ seconds from the conversation's start): every conversation, once.

export const FUNNEL_FIELDS = [
  'missed',
  'texted',
  'replied',
  'quoted',
  'held',
  'booked',
  'reminded',
  'cancelled',
  'completed',
  'no_show',
  'opted_out',
  'taken_over',
  'takeover_seconds',
  'revenue_booked_cents',
  'revenue_kept_cents',
] as const;
export type FunnelField = (typeof FUNNEL_FIELDS)[number];

/** Upper bounds (ms, inclusive) of the first-response histogram; OVERFLOW_BUCKET above the last. */
export const RESPONSE_BUCKETS_MS = [
  250, 500, 750, 1_000, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 7_500, 10_000, 15_000, 30_000, 60_000,
  120_000, 300_000, 900_000, 3_600_000,
] as const;
export const OVERFLOW_BUCKET = 2_147_483_647;

export function responseBucket(latencyMs: number): number {
  return RESPONSE_BUCKETS_MS.find((bound) => latencyMs <= bound) ?? OVERFLOW_BUCKET;
}

/** The percentile `p` (0..1) read from a histogram: the upper bound of the bucket that reaches it. */
export function histogramPercentile(histogram: ReadonlyMap<number, number>, p: number): number | null {
  const buckets = [...histogram.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (const [bound, n] of buckets) {
    seen += n;
    if (seen >= rank) return bound;
  }
  return buckets.at(-1)?.[0] ?? null;
}

/** The tenant's local calendar day (`YYYY-MM-DD`) of an instant; DST days simply have 23 or 25 hours. */
export function localDay(instant: string, timeZone: string): string {
  const day = DateTime.fromISO(instant, { zone: timeZone }).toISODate();
  if (day === null) throw new RangeError(`not an instant: ${instant}`);
  return day;
}

export type ConversationFacts = {
  started_at: string | null;
  missed_at: string | null;
  texted_at: string | null;
  replied_at: string | null;
  quoted_at: string | null;
  held_at: string | null;
  taken_over_at: string | null;
  opted_out_at: string | null;
};
export type ConversationStep = keyof ConversationFacts;

export const EMPTY_CONVERSATION: ConversationFacts = {
  started_at: null,
  missed_at: null,
  texted_at: null,
  replied_at: null,
  quoted_at: null,
  held_at: null,
  taken_over_at: null,
  opted_out_at: null,
};

/** Which step of a conversation each counted event records. */
export const CONVERSATION_STEP_BY_EVENT: Readonly<Record<string, ConversationStep>> = {
  'nmc.conversation.ConversationStarted': 'started_at',
  'nmc.conversation.MissedCallRecorded': 'missed_at',
  'nmc.messaging.MessageAccepted': 'texted_at',
  'nmc.conversation.MessageReceived': 'replied_at',
  'nmc.conversation.ServiceQuoted': 'quoted_at',
  'nmc.conversation.TimeHeld': 'held_at',
  'nmc.conversation.HumanTookOver': 'taken_over_at',
  'nmc.conversation.OptedOut': 'opted_out_at',
};

/** A reminder went out for an appointment: it counts on the appointment's row, not the conversation's. */
export const REMINDER_EVENT = 'nmc.conversation.ReminderSent';

export const APPOINTMENT_EVENTS = [
  'nmc.scheduling.AppointmentBooked',
  'nmc.scheduling.AppointmentRescheduled',
  'nmc.scheduling.AppointmentCancelled',
  'nmc.scheduling.AppointmentOutcomeMarked',
] as const;

/** Every event the reports count. */
export const REPORTED_EVENTS: readonly string[] = [
  ...Object.keys(CONVERSATION_STEP_BY_EVENT),
  ...APPOINTMENT_EVENTS,
  REMINDER_EVENT,
];

function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

export function mergeConversationStep(
  row: ConversationFacts,
  step: ConversationStep,
  at: string,
): ConversationFacts {
  return { ...row, [step]: earliest(row[step], at) };
}

export type AppointmentFacts = {
  conversation_id: string | null;
  service_id: string | null;
  price_cents: number | null;
  start_at: string | null;
  booked_at: string | null;
  superseded_at: string | null;
  cancelled_at: string | null;
  reminded_at: string | null;
  outcome: 'completed' | 'no_show' | null;
  outcome_at: string | null;
  outcome_event_id: string | null;
};

export const EMPTY_APPOINTMENT: AppointmentFacts = {
  conversation_id: null,
  service_id: null,
  price_cents: null,
  start_at: null,
  booked_at: null,
  superseded_at: null,
  cancelled_at: null,
  reminded_at: null,
  outcome: null,
  outcome_at: null,
  outcome_event_id: null,
};

/** An appointment event as the reports read it (the catalog's appointment facts). */
export type AppointmentEvent = {
  event_id: string;
  event_name: (typeof APPOINTMENT_EVENTS)[number];
  occurred_at: string;
  payload: {
    appointment_id: string;
    conversation_id: string | null;
    service_id: string;
    start: string;
    price_cents?: number | null | undefined;
    previous_id?: string | undefined;
    outcome?: 'completed' | 'no_show' | undefined;
  };
};

/** The appointment ids an event changes: its own, and for a move the one it replaced. */
export function appointmentIdsOf(event: AppointmentEvent): string[] {
  const { appointment_id, previous_id } = event.payload;
  return event.event_name === 'nmc.scheduling.AppointmentRescheduled' && previous_id
    ? [appointment_id, previous_id]
    : [appointment_id];
}

/** The row of appointment `id` after `event`; facts every event carries fill what is still unknown. */
export function mergeAppointmentEvent(
  id: string,
  row: AppointmentFacts,
  event: AppointmentEvent,
): AppointmentFacts {
  const p = event.payload;
  const at = event.occurred_at;
  if (id !== p.appointment_id) {
    // The appointment a move replaced: it stops at the move.
    return { ...row, superseded_at: earliest(row.superseded_at, at) };
  }
  const next: AppointmentFacts = {
    ...row,
    conversation_id: row.conversation_id ?? p.conversation_id,
    service_id: row.service_id ?? p.service_id,
    start_at: row.start_at ?? p.start,
  };
  // The price is the one of the event that made this appointment id (its booking, or the move
  // that created it); later events may carry a changed catalog price and never override it.
  switch (event.event_name) {
    case 'nmc.scheduling.AppointmentBooked':
      return { ...next, booked_at: earliest(row.booked_at, at), price_cents: p.price_cents ?? null };
    case 'nmc.scheduling.AppointmentRescheduled':
      return { ...next, price_cents: p.price_cents ?? null };
    case 'nmc.scheduling.AppointmentCancelled':
      return { ...next, cancelled_at: earliest(row.cancelled_at, at) };
    case 'nmc.scheduling.AppointmentOutcomeMarked': {
      const later =
        row.outcome_at === null ||
        Date.parse(at) > Date.parse(row.outcome_at) ||
        (Date.parse(at) === Date.parse(row.outcome_at) && event.event_id > (row.outcome_event_id ?? ''));
      return later
        ? { ...next, outcome: p.outcome ?? null, outcome_at: at, outcome_event_id: event.event_id }
        : next;
    }
  }
}

/** The row of an appointment after a reminder for it went out at `at`: the first reminder counts. */
export function mergeAppointmentReminder(row: AppointmentFacts, at: string): AppointmentFacts {
  return { ...row, reminded_at: earliest(row.reminded_at, at) };
}

/** One amount a fact row adds to one local day: a funnel field, or a first-response bucket. */
export type Contribution = { day: string; field: FunnelField | `bucket:${number}`; amount: number };

export function conversationContributions(row: ConversationFacts, timeZone: string): Contribution[] {
  const out: Contribution[] = [];
  const add = (at: string | null, field: Contribution['field'], amount = 1) => {
    if (at !== null && amount !== 0) out.push({ day: localDay(at, timeZone), field, amount });
  };
  if (row.missed_at !== null) {
    add(row.missed_at, 'missed');
    add(row.texted_at, 'texted');
    add(row.replied_at, 'replied');
    add(row.quoted_at, 'quoted');
    add(row.held_at, 'held');
    if (row.texted_at !== null) {
      const latency = Date.parse(row.texted_at) - Date.parse(row.missed_at);
      if (latency >= 0) add(row.missed_at, `bucket:${responseBucket(latency)}`);
    }
  }
  add(row.opted_out_at, 'opted_out');
  add(row.taken_over_at, 'taken_over');
  if (row.taken_over_at !== null && row.started_at !== null) {
    const seconds = Math.round((Date.parse(row.taken_over_at) - Date.parse(row.started_at)) / 1000);
    if (seconds > 0) add(row.taken_over_at, 'takeover_seconds', seconds);
  }
  return out;
}

export function appointmentContributions(row: AppointmentFacts, timeZone: string): Contribution[] {
  const out: Contribution[] = [];
  const add = (at: string | null, field: FunnelField, amount = 1) => {
    if (at !== null && amount !== 0) out.push({ day: localDay(at, timeZone), field, amount });
  };
  add(row.booked_at, 'booked');
  add(row.booked_at, 'revenue_booked_cents', row.price_cents ?? 0);
  add(row.reminded_at, 'reminded');
  if (row.superseded_at === null) add(row.cancelled_at, 'cancelled');
  if (row.cancelled_at === null && row.outcome === 'completed') {
    add(row.start_at, 'completed');
    add(row.start_at, 'revenue_kept_cents', row.price_cents ?? 0);
  }
  if (row.cancelled_at === null && row.outcome === 'no_show') add(row.start_at, 'no_show');
  return out;
}

/** Per day and field, what changes when a row's contributions go from `before` to `after`. */
export function difference(
  before: readonly Contribution[],
  after: readonly Contribution[],
): Map<string, Map<Contribution['field'], number>> {
  const days = new Map<string, Map<Contribution['field'], number>>();
  const apply = (c: Contribution, sign: number) => {
    const fields = days.get(c.day) ?? new Map<Contribution['field'], number>();
    fields.set(c.field, (fields.get(c.field) ?? 0) + sign * c.amount);
    days.set(c.day, fields);
  };
  for (const c of before) apply(c, -1);
  for (const c of after) apply(c, 1);
  for (const [day, fields] of days) {
    for (const [field, amount] of fields) if (amount === 0) fields.delete(field);
    if (fields.size === 0) days.delete(day);
  }
  return days;
}
