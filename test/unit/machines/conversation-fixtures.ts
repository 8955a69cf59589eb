import { DEFAULT_TEMPLATES } from '../../../src/domain/templates.ts';
import {
  type BookableSlot,
  type CatalogItem,
  CONVERSATION_EVENT_TYPES,
  type ConversationEvent,
  type ConversationEventType,
  type ConversationFacts,
  type ConversationPolicy,
} from '../../../src/machines/conversation-events.ts';

// Facts and events for the conversation machine's tests. Every event carries its own facts and time,
// so a test builds both here and the machine reads nothing else.

export type FactsOverrides = Partial<Omit<ConversationFacts, 'gates' | 'policy'>> & {
  gates?: Partial<ConversationFacts['gates']>;
  policy?: Partial<ConversationPolicy>;
};

export const LA = 'America/Los_Angeles';

/**
 * An approved tenant, a caller who has not opted out, every gate open, default templates and policy,
 * and an empty catalog (no booking dialogue: the assistant acknowledges and hands over).
 */
export function makeFacts(overrides: FactsOverrides = {}): ConversationFacts {
  const { gates, policy, ...rest } = overrides;
  return {
    businessName: 'Acme Plumbing',
    timeZone: LA,
    catalog: [],
    helpText: 'Call us at +13105551212.',
    campaignStatus: 'approved',
    optedOut: false,
    afterHours: false,
    nextOpeningAt: null,
    businessPhone: '+13105551212',
    trade: 'plumbing',
    locale: 'en-US',
    // Each text is answered at once unless a test is about bursts.
    replyDelaySeconds: 0,
    templates: { ...DEFAULT_TEMPLATES },
    ...rest,
    gates: { sms: true, assistant: true, ...gates },
    policy: {
      greetingWindowMinutes: 60,
      inactivityCloseMinutes: 1440,
      bookedCloseMinutes: 2880,
      humanIdleReleaseMinutes: null,
      maxMisunderstandings: 3,
      ...policy,
    },
  };
}

/** A small plumbing catalog: one clear match per service, and "repair" is ambiguous between two. */
export const CATALOG: readonly CatalogItem[] = [
  {
    id: 'svc-drain',
    name: 'Drain cleaning',
    aliases: ['clogged drain'],
    durationMinutes: 60,
    priceCents: 14900,
  },
  {
    id: 'svc-heater',
    name: 'Water heater repair',
    aliases: ['no hot water', 'water heater'],
    durationMinutes: 90,
    priceCents: 22900,
  },
  { id: 'svc-toilet', name: 'Toilet repair', aliases: [], durationMinutes: 60, priceCents: 12900 },
];

/** makeFacts with CATALOG: inbound texts in `open` run the booking dialogue. */
export function makeCatalogFacts(overrides: FactsOverrides = {}): ConversationFacts {
  return makeFacts({
    catalog: CATALOG.map((item) => ({ ...item, aliases: [...item.aliases] })),
    ...overrides,
  });
}

/**
 * Three bookable times after T0 (Mon 2025-03-03 07:00 in Los Angeles, PST): Tue 10:00, Tue 14:00 and
 * Wed 09:00 local time.
 */
export const SLOTS: readonly BookableSlot[] = [
  { resourceId: 'res-1', start: '2025-03-04T18:00:00.000Z', end: '2025-03-04T19:00:00.000Z' },
  { resourceId: 'res-2', start: '2025-03-04T22:00:00.000Z', end: '2025-03-04T23:00:00.000Z' },
  { resourceId: 'res-1', start: '2025-03-05T17:00:00.000Z', end: '2025-03-05T18:00:00.000Z' },
];

/** A fixed instant the tests count from. */
export const T0 = '2025-03-03T15:00:00.000Z';

/** `minutes` after T0, as the ISO string the events carry. */
export function minutes(n: number): string {
  return new Date(Date.parse(T0) + n * 60_000).toISOString();
}

/** Ids and bodies that have broken naive code elsewhere: prototype keys, placeholders, unicode, size. */
export const HOSTILE_STRINGS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  '{business}',
  '{help} {__proto__} {constructor}',
  '$&$1$$',
  'null',
  'undefined',
  'STOP',
  'Zoë 🚰🔧 ñandú',
  '👨‍👩‍👧‍👦🏳️‍🌈',
  'مرحبا \u202e gnp.exe',
  'e\u0301\u0301\u0301',
  '\u0000\u200b\ufeff',
  '"quoted"\n\'line\'\r\n\t<script>',
  'x'.repeat(1600),
  '🔧'.repeat(800),
];

/**
 * The hostile strings that are valid operator ids. The runtime checks an operator id before it
 * dispatches, and the stored snapshot requires `assignedTo` to be a non-empty string or null, so ''
 * is never an operator id (conversation.test.ts asserts that such a snapshot cannot be revived).
 */
export const HOSTILE_OPERATOR_IDS: readonly string[] = HOSTILE_STRINGS.filter((s) => s !== '');

type EventOf<T extends ConversationEventType> = Extract<ConversationEvent, { type: T }>;
type Base = { at: string; facts: ConversationFacts };

export type EventsForOptions = {
  /** Picks which hostile strings the ids and bodies use; different picks cover different strings. */
  pick?: number;
  /** The token the InactivityTimeout carries (the current one closes an open conversation). */
  token?: number;
};

function hostile(index: number, from: readonly string[] = HOSTILE_STRINGS): string {
  const count = from.length;
  return from[((index % count) + count) % count]!;
}

/**
 * One event of every type (CONVERSATION_EVENT_TYPES, in that order), carrying `facts` and `at`,
 * with hostile ids and bodies. The mapped type makes a new event type a compile error here.
 */
export function* eventsFor(
  facts: ConversationFacts,
  at: string,
  options: EventsForOptions = {},
): Generator<ConversationEvent> {
  const pick = options.pick ?? 0;
  const base: Base = { at, facts };
  const id = (n: number) => hostile(pick + n);
  const operatorId = (n: number) => hostile(pick + n, HOSTILE_OPERATOR_IDS);
  const builders: { [T in ConversationEventType]: () => EventOf<T> } = {
    MissedCall: () => ({ ...base, type: 'MissedCall', callSid: id(0) }),
    InboundSms: () => ({ ...base, type: 'InboundSms', messageSid: id(1), body: id(19), mediaCount: 0 }),
    HumanTakeoverRequested: () => ({ ...base, type: 'HumanTakeoverRequested', operatorId: operatorId(1) }),
    HumanReleased: () => ({ ...base, type: 'HumanReleased', operatorId: operatorId(1) }),
    OperatorMessage: () => ({ ...base, type: 'OperatorMessage', operatorId: operatorId(0), body: id(20) }),
    CloseRequested: () => ({ ...base, type: 'CloseRequested', operatorId: operatorId(1) }),
    OptedOut: () => ({ ...base, type: 'OptedOut', source: 'keyword', confirm: true }),
    OptedIn: () => ({ ...base, type: 'OptedIn', confirm: true }),
    // `confirm` left out: HELP is answered unless the event says the provider already did.
    HelpRequested: () => ({ ...base, type: 'HelpRequested' }),
    CampaignStatusChanged: () => ({ ...base, type: 'CampaignStatusChanged', status: 'rejected' }),
    MessageStatusChanged: () => ({
      ...base,
      type: 'MessageStatusChanged',
      messageId: id(0),
      status: 'failed',
      errorCode: id(13),
    }),
    HoldExpired: () => ({ ...base, type: 'HoldExpired', holdId: id(2) }),
    PublicBookingCodeRequested: () => ({
      ...base,
      type: 'PublicBookingCodeRequested',
      holdId: id(2),
      code: '123456',
    }),
    // The runtime's answers carry valid slots (they come from the database); ids are hostile.
    SlotsFound: () => ({ ...base, type: 'SlotsFound', serviceId: id(3), slots: [...SLOTS] }),
    HoldPlaced: () => ({
      ...base,
      type: 'HoldPlaced',
      holdId: id(2),
      slot: SLOTS[0]!,
      expiresAt: new Date(Date.parse(at) + 15 * 60_000).toISOString(),
    }),
    HoldFailed: () => ({ ...base, type: 'HoldFailed', reason: id(4) }),
    Booked: () => ({ ...base, type: 'Booked', appointmentId: id(5), slot: SLOTS[0]! }),
    BookingFailed: () => ({ ...base, type: 'BookingFailed', reason: id(6) }),
    AppointmentCancelled: () => ({ ...base, type: 'AppointmentCancelled', appointmentId: id(5) }),
    AppointmentMoved: () => ({
      ...base,
      type: 'AppointmentMoved',
      appointmentId: id(7),
      previousId: id(5),
      slot: SLOTS[1]!,
    }),
    MoveFailed: () => ({ ...base, type: 'MoveFailed', reason: 'conflict' }),
    CancellationFailed: () => ({
      ...base,
      type: 'CancellationFailed',
      appointmentId: id(5),
      reason: 'conflict',
    }),
    AppointmentReminderDue: () => ({
      ...base,
      type: 'AppointmentReminderDue',
      appointmentId: id(5),
      serviceId: id(3),
      serviceName: id(21),
      slot: SLOTS[0]!,
      offsetMinutes: 120,
      link: null,
    }),
    AppointmentCompleted: () => ({ ...base, type: 'AppointmentCompleted', appointmentId: id(5) }),
    AppointmentCancelledElsewhere: () => ({
      ...base,
      type: 'AppointmentCancelledElsewhere',
      appointmentId: id(5),
    }),
    AppointmentMovedElsewhere: () => ({
      ...base,
      type: 'AppointmentMovedElsewhere',
      appointmentId: id(7),
      previousId: id(5),
      slot: SLOTS[1]!,
    }),
    InactivityTimeout: () => ({
      ...base,
      type: 'InactivityTimeout',
      timer: 'inactivity',
      token: options.token ?? 1,
    }),
  };
  for (const type of CONVERSATION_EVENT_TYPES) yield builders[type]();
}

/** An event without its `at` and `facts`, which `makeEvent` fills in. */
export type EventInput = ConversationEvent extends infer E
  ? E extends ConversationEvent
    ? Omit<E, 'at' | 'facts'> & Partial<Base>
    : never
  : never;

export function makeEvent(input: EventInput, defaults: Base): ConversationEvent {
  return { ...defaults, ...input } as ConversationEvent;
}
