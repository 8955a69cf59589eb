import { getShortestPaths } from '@xstate/graph';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { render, SPANISH_TEMPLATES } from '../../../src/domain/templates.ts';
import { conversationMachine } from '../../../src/machines/conversation.ts';
import {
  type CampaignStatus,
  CONVERSATION_EVENT_TYPES,
  type ConversationEvent,
  type ConversationEventType,
  type ConversationFacts,
  type SendPurpose,
  type TimerKind,
} from '../../../src/machines/conversation-events.ts';
import { type ConversationContext, minutesAfter } from '../../../src/machines/conversation-plan.ts';
import {
  initialSnapshot,
  reviveSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  type StepResult,
  type StoredSnapshot,
  step,
} from '../../../src/machines/conversation-snapshot.ts';
import {
  eventsFor,
  HOSTILE_OPERATOR_IDS,
  HOSTILE_STRINGS,
  makeCatalogFacts,
  makeFacts,
  minutes,
  SLOTS,
} from './conversation-fixtures.ts';

// Model-based tests of the conversation machine. @xstate/graph walks the machine with concrete events
// to reach every state; from every state reached, every event variant goes through `step` (what the
// runtime calls) and the rules in conversation.ts are checked on each step. fast-check then replays
// random event sequences with random facts and hostile strings against the same rules.

// ---------------------------------------------------------------------------------------------------
// Fact variants: every event of a traversal carries the same facts.

const FACT_VARIANTS = {
  'all allowed': makeFacts(),
  'campaign pending': makeFacts({ campaignStatus: 'pending' }),
  'campaign rejected': makeFacts({ campaignStatus: 'rejected' }),
  'opted out': makeFacts({ optedOut: true }),
  'assistant gate closed': makeFacts({ gates: { assistant: false } }),
  'sms gate closed': makeFacts({ gates: { sms: false } }),
  // With a catalog an inbound text in `open` runs the booking dialogue, and the graph tells apart
  // the dialogue's steps (see abstractState), so every step is reached in every state.
  catalog: makeCatalogFacts(),
} satisfies Record<string, ConversationFacts>;

type FactVariant = keyof typeof FACT_VARIANTS;
const FACT_VARIANT_NAMES = Object.keys(FACT_VARIANTS) as FactVariant[];

// ---------------------------------------------------------------------------------------------------
// Event variants: an event type, refined where a guard looks at the event's fields or the policy.

const EVENT_VARIANTS = [
  'MissedCall',
  'InboundSms',
  'HumanTakeoverRequested',
  'HumanReleased',
  'OperatorMessage',
  'CloseRequested(operator)',
  'CloseRequested(system)',
  'OptedOut(confirm)',
  'OptedOut(silent)',
  'OptedIn(confirm)',
  'OptedIn(silent)',
  'HelpRequested',
  'HelpRequested(confirm)',
  'HelpRequested(silent)',
  'CampaignStatusChanged(none)',
  'CampaignStatusChanged(pending)',
  'CampaignStatusChanged(approved)',
  'CampaignStatusChanged(rejected)',
  'MessageStatusChanged(sent)',
  'MessageStatusChanged(delivered)',
  'MessageStatusChanged(failed)',
  'HoldExpired(current)',
  'HoldExpired(other)',
  'PublicBookingCodeRequested',
  'InactivityTimeout(inactivity,current)',
  'InactivityTimeout(inactivity,stale)',
  'InactivityTimeout(humanIdle,current,release)',
  'InactivityTimeout(humanIdle,current,never)',
  'InactivityTimeout(humanIdle,stale)',
  'SlotsFound',
  'HoldPlaced',
  'HoldFailed',
  'Booked',
  'BookingFailed',
  'AppointmentCancelled',
  'AppointmentMoved',
  'MoveFailed',
  'CancellationFailed',
  'AppointmentReminderDue',
  'AppointmentCompleted',
  'AppointmentCancelledElsewhere(own)',
  'AppointmentCancelledElsewhere(other)',
  'AppointmentMovedElsewhere(own)',
  'AppointmentMovedElsewhere(other)',
] as const;

type EventVariant = (typeof EVENT_VARIANTS)[number];

/** Which variant an event is, given the context it is applied to (the token is current or stale). */
function variantOf(event: ConversationEvent, context: ConversationContext): EventVariant {
  switch (event.type) {
    case 'CloseRequested':
      return event.operatorId === null ? 'CloseRequested(system)' : 'CloseRequested(operator)';
    case 'OptedOut':
      return event.confirm ? 'OptedOut(confirm)' : 'OptedOut(silent)';
    case 'OptedIn':
      return event.confirm ? 'OptedIn(confirm)' : 'OptedIn(silent)';
    case 'HelpRequested':
      if (event.confirm === undefined) return 'HelpRequested';
      return event.confirm ? 'HelpRequested(confirm)' : 'HelpRequested(silent)';
    case 'CampaignStatusChanged':
      return `CampaignStatusChanged(${event.status})`;
    case 'MessageStatusChanged':
      return `MessageStatusChanged(${event.status})`;
    case 'HoldExpired':
      return event.holdId === context.dialogue.holdId ? 'HoldExpired(current)' : 'HoldExpired(other)';
    case 'InactivityTimeout': {
      const current = event.token === context.timerToken;
      if (event.timer === 'inactivity') {
        return current ? 'InactivityTimeout(inactivity,current)' : 'InactivityTimeout(inactivity,stale)';
      }
      if (!current) return 'InactivityTimeout(humanIdle,stale)';
      return event.facts.policy.humanIdleReleaseMinutes === null
        ? 'InactivityTimeout(humanIdle,current,never)'
        : 'InactivityTimeout(humanIdle,current,release)';
    }
    case 'AppointmentCancelledElsewhere':
      return event.appointmentId === context.dialogue.appointmentId
        ? 'AppointmentCancelledElsewhere(own)'
        : 'AppointmentCancelledElsewhere(other)';
    case 'AppointmentMovedElsewhere':
      return event.previousId === context.dialogue.appointmentId
        ? 'AppointmentMovedElsewhere(own)'
        : 'AppointmentMovedElsewhere(other)';
    default:
      return event.type;
  }
}

/** What a caller writes in the booking dialogue: a service, an ambiguous one, picks, yes/no, change, cancel. */
const DIALOGUE_TEXTS = [
  'my drain is clogged',
  'water heater or toilet',
  '1',
  '2',
  'yes',
  'no',
  'change',
  'cancel my appointment',
] as const;

/**
 * One event of every variant for a context: eventsFor's one-per-type plus the refinements. With a
 * catalog, also the texts and answers that move the booking dialogue from where the context is.
 */
function allVariants(facts: ConversationFacts, at: string, context: ConversationContext, pick = 0) {
  const token = context.timerToken;
  const events: ConversationEvent[] = [...eventsFor(facts, at, { pick, token })];
  const base = { at, facts };
  const { dialogue } = context;
  if (dialogue.holdId !== null) events.push({ ...base, type: 'HoldExpired', holdId: dialogue.holdId });
  if (dialogue.appointmentId !== null) {
    events.push(
      { ...base, type: 'AppointmentCancelledElsewhere', appointmentId: dialogue.appointmentId },
      {
        ...base,
        type: 'AppointmentMovedElsewhere',
        appointmentId: `appt-elsewhere-${token}`,
        previousId: dialogue.appointmentId,
        slot: SLOTS[1]!,
      },
    );
  }
  if (facts.catalog.length > 0) {
    events.push(
      ...DIALOGUE_TEXTS.map((body, i) => ({
        ...base,
        type: 'InboundSms' as const,
        messageSid: `SM${i}`,
        body,
        mediaCount: 0,
      })),
    );
    if (dialogue.serviceId !== null) {
      const serviceId = dialogue.serviceId;
      events.push(
        { ...base, type: 'SlotsFound', serviceId, slots: [...SLOTS] },
        { ...base, type: 'SlotsFound', serviceId, slots: [] },
        {
          ...base,
          type: 'HoldPlaced',
          holdId: `hold-${token}`,
          slot: dialogue.offered[0] ?? SLOTS[0]!,
          expiresAt: minutesAfter(at, 15),
        },
        { ...base, type: 'Booked', appointmentId: `appt-${token}`, slot: dialogue.held ?? SLOTS[0]! },
      );
    }
    if (dialogue.appointmentId !== null) {
      events.push({ ...base, type: 'AppointmentCancelled', appointmentId: dialogue.appointmentId });
      events.push({
        ...base,
        type: 'AppointmentMoved',
        appointmentId: `appt-moved-${token}`,
        previousId: dialogue.appointmentId,
        slot: SLOTS[2]!,
      });
      events.push({ ...base, type: 'MoveFailed', reason: 'conflict' });
      events.push({
        ...base,
        type: 'CancellationFailed',
        appointmentId: dialogue.appointmentId,
        reason: 'conflict',
      });
    }
  }
  const release = { ...facts, policy: { ...facts.policy, humanIdleReleaseMinutes: 30 } };
  const never = { ...facts, policy: { ...facts.policy, humanIdleReleaseMinutes: null } };
  events.push(
    { ...base, type: 'CloseRequested', operatorId: null },
    { ...base, type: 'CloseRequested', operatorId: 'op-1' },
    { ...base, type: 'OptedOut', source: 'provider', confirm: false },
    { ...base, type: 'OptedIn', confirm: false },
    { ...base, type: 'HelpRequested', confirm: true },
    { ...base, type: 'HelpRequested', confirm: false },
    ...(['none', 'pending', 'approved'] as const).map((status) => ({
      ...base,
      type: 'CampaignStatusChanged' as const,
      status,
    })),
    ...(['sent', 'delivered'] as const).map((status) => ({
      ...base,
      type: 'MessageStatusChanged' as const,
      messageId: 'SM1',
      status,
      errorCode: null,
    })),
    { ...base, type: 'InactivityTimeout', timer: 'inactivity', token: token - 1 },
    { ...base, type: 'InactivityTimeout', timer: 'inactivity', token: token + 1 },
    { at, facts: release, type: 'InactivityTimeout', timer: 'humanIdle', token },
    { at, facts: never, type: 'InactivityTimeout', timer: 'humanIdle', token },
    { at, facts: release, type: 'InactivityTimeout', timer: 'humanIdle', token: token - 1 },
  );
  return events;
}

// ---------------------------------------------------------------------------------------------------
// The explicit table of what each state ignores (handled === false). Adding or dropping a transition
// must change this table, or the model test fails.

const STATE_KEYS = ['open', 'human', 'blocked:opted_out', 'blocked:compliance', 'closed'] as const;
type StateKey = (typeof STATE_KEYS)[number];

function stateKey(snapshot: StoredSnapshot): StateKey {
  if (snapshot.value !== 'blocked') return snapshot.value as StateKey;
  return snapshot.context.blockedReason === 'compliance' ? 'blocked:compliance' : 'blocked:opted_out';
}

// A missed call is recorded and an operator's text is held back with a reason: both are handled.
// The booking dialogue runs in `open` only: the runtime's answers to its requests, and hold expiries
// (only for the hold the dialogue is waiting on), are handled there and ignored everywhere else.
const DIALOGUE_ANSWERS: readonly EventVariant[] = [
  'SlotsFound',
  'HoldPlaced',
  'HoldFailed',
  'Booked',
  'BookingFailed',
  'AppointmentCancelled',
  'AppointmentMoved',
  'MoveFailed',
  'CancellationFailed',
  'HoldExpired(current)',
];

// News of another appointment than the dialogue's is ignored everywhere; of its own, handled in
// every state but `closed`.
const ELSEWHERE_OTHER: readonly EventVariant[] = [
  'AppointmentCancelledElsewhere(other)',
  'AppointmentMovedElsewhere(other)',
];

const IGNORED_IN_BLOCKED: readonly EventVariant[] = [
  ...DIALOGUE_ANSWERS,
  ...ELSEWHERE_OTHER,
  'PublicBookingCodeRequested',
  'AppointmentReminderDue',
  'AppointmentCompleted',
  'HumanTakeoverRequested',
  'HumanReleased',
  'CampaignStatusChanged(none)',
  'CampaignStatusChanged(pending)',
  'CampaignStatusChanged(rejected)',
  'HoldExpired(other)',
  'InactivityTimeout(inactivity,current)',
  'InactivityTimeout(inactivity,stale)',
  'InactivityTimeout(humanIdle,current,release)',
  'InactivityTimeout(humanIdle,current,never)',
  'InactivityTimeout(humanIdle,stale)',
];

const IGNORED: Record<StateKey, ReadonlySet<EventVariant>> = {
  // OptedIn (START from a caller who is not blocked) is recorded and confirmed in open and human.
  open: new Set<EventVariant>([
    ...ELSEWHERE_OTHER,
    'HumanReleased',
    'CampaignStatusChanged(none)',
    'CampaignStatusChanged(pending)',
    'CampaignStatusChanged(approved)',
    'HoldExpired(other)',
    'InactivityTimeout(inactivity,stale)',
    'InactivityTimeout(humanIdle,current,release)',
    'InactivityTimeout(humanIdle,current,never)',
    'InactivityTimeout(humanIdle,stale)',
  ]),
  human: new Set<EventVariant>([
    ...DIALOGUE_ANSWERS,
    ...ELSEWHERE_OTHER,
    // The public booking code, reminders and follow-ups are the assistant's texts: never sent
    // while a person is in control.
    'PublicBookingCodeRequested',
    'AppointmentReminderDue',
    'AppointmentCompleted',
    'CampaignStatusChanged(none)',
    'CampaignStatusChanged(pending)',
    'CampaignStatusChanged(approved)',
    'HoldExpired(other)',
    'InactivityTimeout(inactivity,current)',
    'InactivityTimeout(inactivity,stale)',
    'InactivityTimeout(humanIdle,current,never)',
    'InactivityTimeout(humanIdle,stale)',
  ]),
  // OptedIn is handled whatever the campaign: it reopens, or (campaign rejected) stays blocked for compliance.
  'blocked:opted_out': new Set<EventVariant>([...IGNORED_IN_BLOCKED, 'CampaignStatusChanged(approved)']),
  'blocked:compliance': new Set<EventVariant>([...IGNORED_IN_BLOCKED, 'OptedIn(confirm)', 'OptedIn(silent)']),
  // Final: accepts nothing (docs/product.md), not even the machine's top-level transitions.
  closed: new Set<EventVariant>(EVENT_VARIANTS),
};

// ---------------------------------------------------------------------------------------------------
// The rules, checked on every step.

const QUIET_STATES = new Set<string>(['human', 'closed', 'blocked']);
const BOOKING_REQUESTS = new Set<string>([
  'findSlots',
  'placeHold',
  'confirmHold',
  'releaseHold',
  'cancelAppointment',
  'moveAppointment',
]);
const DIALOGUE_STEPS = ['idle', 'choosingService', 'offering', 'confirming', 'booked', 'confirmingCancel'];

// The send rules as docs/product.md promises them, written here on purpose instead of importing the
// production guard (src/machines/send-guard.ts): a test that judged the machine with the guard it
// uses could not notice a rule missing from both.
// - No outbound SMS unless the tenant's campaign is approved: a hard gate, for every kind of text.
// - An opted-out caller gets nothing more, except the compliance replies to STOP/START/HELP.
// - The subscription's feature gates: without `sms` only compliance replies leave; without
//   `assistant` the assistant is silent, while a person (operator) and compliance still speak.
const MAY_SEND_WHEN: Record<
  SendPurpose,
  { optedOut: boolean; smsGateClosed: boolean; assistantGateClosed: boolean }
> = {
  compliance: { optedOut: true, smsGateClosed: true, assistantGateClosed: true },
  operator: { optedOut: false, smsGateClosed: false, assistantGateClosed: true },
  greeting: { optedOut: false, smsGateClosed: false, assistantGateClosed: false },
  assistant: { optedOut: false, smsGateClosed: false, assistantGateClosed: false },
};

function designAllowsSend(purpose: SendPurpose, facts: ConversationFacts): boolean {
  if (facts.campaignStatus !== 'approved') return false;
  const allowed = MAY_SEND_WHEN[purpose];
  if (facts.optedOut && !allowed.optedOut) return false;
  if (!facts.gates.sms && !allowed.smsGateClosed) return false;
  if (!facts.gates.assistant && !allowed.assistantGateClosed) return false;
  return true;
}

function textValues(facts: ConversationFacts): Record<string, string> {
  return { business: facts.businessName, help: facts.helpText };
}

/** The texts that hand over to a person (triage), in English or Spanish; placeholders match anything. */
const HANDOVER_TEMPLATES = [
  'handedToHuman',
  'handoverRequested',
  'complaint',
  'emergencyHandover',
  'unsupportedLanguage',
] as const;

function isHandoverText(body: string, facts: ConversationFacts): boolean {
  return HANDOVER_TEMPLATES.flatMap((name) => [facts.templates[name], SPANISH_TEMPLATES[name] ?? '']).some(
    (template) => {
      const filled = render(template, textValues(facts));
      const pattern = filled
        .split(/\{\w+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      return template !== '' && new RegExp(`^${pattern}$`, 's').test(body);
    },
  );
}

function checkStep(before: StoredSnapshot, event: ConversationEvent, result: StepResult): void {
  const where = `${stateKey(before)} + ${variantOf(event, before.context)} → ${result.state}`;
  expect(result.previousState, where).toBe(before.value);
  expect(result.state, where).toBe(result.snapshot.value);
  const sent = result.effects.flatMap((e) => (e.type === 'sendSms' ? [e] : []));
  for (const sms of sent) {
    // (a) nothing leaves that the guards hold back, judged with this event's facts.
    expect(designAllowsSend(sms.purpose, event.facts), `${where}: ${sms.purpose} sent`).toBe(true);
    // (b) the assistant never speaks in human, closed or blocked, nor into closed or blocked. Its one
    // text into human is the hand-over after repeated misunderstandings, telling the caller that a
    // person takes over (the last thing the assistant says).
    if (sms.purpose === 'greeting' || sms.purpose === 'assistant') {
      expect(QUIET_STATES.has(before.value), `${where}: ${sms.purpose} from ${before.value}`).toBe(false);
      if (result.state !== 'open') {
        expect(result.state, `${where}: ${sms.purpose} into ${result.state}`).toBe('human');
        expect(event.type, where).toBe('InboundSms');
        expect(isHandoverText(sms.body, event.facts), `${where}: ${sms.body}`).toBe(true);
      }
    }
    // (c) an opted-out caller gets compliance texts only.
    if (event.facts.optedOut) expect(sms.purpose, where).toBe('compliance');
  }
  // (d) an event either transitions or is explicitly ignored, and the table says which.
  if (!result.handled) {
    expect(result.effects, `${where}: ignored but has effects`).toEqual([]);
    expect(result.snapshot, `${where}: ignored but changed`).toEqual(before);
  }
  const ignored = IGNORED[stateKey(before)].has(variantOf(event, before.context));
  expect(result.handled, `${where}: handled`).toBe(!ignored);
  // (g) the booking dialogue asks for slots, holds and bookings only from `open`, and stays there;
  // its step is always a known one and it never offers more than three times.
  const requests = result.effects.filter((e) => BOOKING_REQUESTS.has(e.type));
  if (requests.length > 0) {
    expect(before.value, `${where}: requests`).toBe('open');
    expect(result.state, `${where}: requests`).toBe('open');
  }
  expect(DIALOGUE_STEPS, where).toContain(result.snapshot.context.dialogue.step);
  expect(result.snapshot.context.dialogue.offered.length, where).toBeLessThanOrEqual(3);
  // (e) an operator who writes is never left behind an assistant in control.
  if (event.type === 'OperatorMessage') expect(result.state, where).not.toBe('open');
  // (f) `blocked` is left only by a close, by OptedIn after an opt-out (not while the facts say the
  // campaign is rejected), or by an approval after a compliance block; a reopened conversation has a
  // running inactivity timer again.
  if (before.value === 'blocked') {
    const reopens =
      event.type === 'OptedIn'
        ? before.context.blockedReason === 'opted_out' && event.facts.campaignStatus !== 'rejected'
        : event.type === 'CampaignStatusChanged' &&
          before.context.blockedReason === 'compliance' &&
          event.status === 'approved';
    const expected = event.type === 'CloseRequested' ? 'closed' : reopens ? 'open' : 'blocked';
    expect(result.state, `${where}: leaves blocked`).toBe(expected);
    if (reopens) {
      expect(result.effects, `${where}: inactivity timer`).toContainEqual({
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutesAfter(event.at, event.facts.policy.inactivityCloseMinutes),
        token: result.snapshot.context.timerToken,
      });
    }
  }
}

/** step + checkStep. */
function checkedStep(before: StoredSnapshot, event: ConversationEvent): StepResult {
  const result = step(before, event);
  checkStep(before, event, result);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Graph traversal: shortest paths to every abstract state, with the concrete events of a fact variant.

/** What makes two snapshots behave differently here; counters and times are left out so the graph is finite. */
function abstractState(value: unknown, context: ConversationContext): string {
  return JSON.stringify({
    value,
    blockedReason: context.blockedReason,
    assigned: context.assignedTo !== null,
    acknowledged: context.acknowledged,
    greeted: context.lastGreetingAt !== null,
    closedReason: context.closedReason,
    // The booking dialogue (it moves with a catalog): in `open`, where it is and what it holds; the
    // misunderstandings are counted so the hand-over is reached. Elsewhere it stands still, and only
    // a live hold makes a difference (to HoldExpired).
    hold: context.dialogue.holdId !== null,
    ...(value === 'open' && {
      step: context.dialogue.step,
      service: context.dialogue.serviceId !== null,
      appointment: context.dialogue.appointmentId !== null,
      misunderstandings: context.dialogue.misunderstandings,
    }),
  });
}

type Explored = { nodes: { path: ConversationEvent[]; snapshot: StoredSnapshot }[] };

const AT = minutes(0);
const explored = new Map<FactVariant, Explored>();

function explore(variant: FactVariant): Explored {
  const cached = explored.get(variant);
  if (cached) return cached;
  const facts = FACT_VARIANTS[variant];
  const paths = getShortestPaths(conversationMachine, {
    events: (snapshot) => allVariants(facts, AT, snapshot.context),
    serializeState: (snapshot) => abstractState(snapshot.value, snapshot.context),
    // `closed` is final: xstate does not take it anywhere, and neither does the graph.
    stopWhen: (snapshot) => snapshot.value === 'closed',
    limit: 10_000,
  });
  const nodes = paths.map((path) => {
    const events = path.steps.slice(1).map((s) => s.event);
    // Replays the path through `step`, checking every step. The graph keeps one concrete snapshot per
    // abstract state (not necessarily this path's), so they agree on the abstract state only.
    let snapshot = initialSnapshot();
    for (const event of events) snapshot = checkedStep(snapshot, event).snapshot;
    expect(abstractState(snapshot.value, snapshot.context)).toBe(
      abstractState(path.state.value, path.state.context),
    );
    return { path: events, snapshot };
  });
  const result = { nodes };
  explored.set(variant, result);
  return result;
}

const MOMENTS = [
  [0, AT],
  [5, minutes(59)],
  [11, minutes(61)],
  [17, minutes(1441)],
] as const;

describe('model', () => {
  it.each(FACT_VARIANT_NAMES)(
    'with %s facts reaches every state, keeping the rules on every path',
    (variant) => {
      const { nodes } = explore(variant);
      const reached = new Set(nodes.map((n) => stateKey(n.snapshot)));
      expect([...reached].sort()).toEqual([...STATE_KEYS].sort());
      expect(new Set(nodes.map((n) => n.snapshot.value))).toEqual(
        new Set(['open', 'human', 'closed', 'blocked']),
      );
    },
    30_000,
  );

  it.each(STATE_KEYS)(
    'from every %s snapshot, with every fact variant, every event variant keeps the rules',
    (key) => {
      for (const variant of FACT_VARIANT_NAMES) {
        const facts = FACT_VARIANTS[variant];
        const nodes = explore(variant).nodes.filter((n) => stateKey(n.snapshot) === key);
        expect(nodes.length).toBeGreaterThan(0);
        const tried = new Set<EventVariant>();
        // Hostile ids rotate through the list across picks; the time varies around the windows. The
        // catalog variant has many more nodes (the dialogue's steps), so it takes two of the four.
        const moments = variant === 'catalog' ? MOMENTS.filter((_, i) => i % 2 === 0) : MOMENTS;
        for (const { snapshot } of nodes) {
          for (const [pick, at] of moments) {
            for (const event of allVariants(facts, at, snapshot.context, pick)) {
              tried.add(variantOf(event, snapshot.context));
              checkedStep(snapshot, event);
            }
          }
        }
        // A hold exists only with a catalog (the dialogue places it); the next test checks that the
        // catalog variant reaches every state with one.
        const withHold = nodes.some((n) => n.snapshot.context.dialogue.holdId !== null);
        // Likewise news of the dialogue's own appointment needs one.
        const withAppointment = nodes.some((n) => n.snapshot.context.dialogue.appointmentId !== null);
        const expected = EVENT_VARIANTS.filter(
          (v) =>
            (withHold || v !== 'HoldExpired(current)') && (withAppointment || !v.endsWith('Elsewhere(own)')),
        );
        expect([...tried].sort(), variant).toEqual([...expected].sort());
      }
    },
    30_000,
  );

  it('with a catalog reaches every dialogue step in open, and every state with a live hold', () => {
    const { nodes } = explore('catalog');
    const steps = new Set(
      nodes.filter((n) => n.snapshot.value === 'open').map((n) => n.snapshot.context.dialogue.step),
    );
    expect([...steps].sort()).toEqual([...DIALOGUE_STEPS].sort());
    const held = new Set(
      nodes.filter((n) => n.snapshot.context.dialogue.holdId !== null).map((n) => stateKey(n.snapshot)),
    );
    expect([...held].sort()).toEqual([...STATE_KEYS].sort());
    // The hand-over after repeated misunderstandings is on some path.
    expect(nodes.some((n) => n.snapshot.value === 'human' && n.snapshot.context.assignedTo === null)).toBe(
      true,
    );
  });
});

describe('model coverage', () => {
  it('the variants cover every event type', () => {
    const types = new Set(EVENT_VARIANTS.map((v) => v.replace(/\(.*\)$/, '')));
    expect([...types].sort()).toEqual([...CONVERSATION_EVENT_TYPES].sort());
  });

  it('the IGNORED table only names known variants', () => {
    for (const key of STATE_KEYS) {
      for (const v of IGNORED[key]) expect(EVENT_VARIANTS).toContain(v);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Random sequences.

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 1600 }) },
);

// Operator ids are checked by the runtime before dispatch, and a stored snapshot requires a non-empty
// `assignedTo`, so an operator id is never ''.
const operatorId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_OPERATOR_IDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1600 }) },
);

const recipe = fc.record({
  type: fc.constantFrom(...CONVERSATION_EVENT_TYPES),
  facts: fc.constantFrom(...FACT_VARIANT_NAMES),
  afterHours: fc.boolean(),
  humanIdleReleaseMinutes: fc.constantFrom(null, 30),
  // Minutes since the previous event: often inside the greeting window, sometimes past the timers.
  advance: fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 91, max: 3000 })),
  id: hostileString,
  operatorId,
  // With a catalog, texts that move the booking dialogue are as likely as noise.
  body: fc.oneof(hostileString, fc.constantFrom(...DIALOGUE_TEXTS)),
  // The runtime's answers: how many slots were found, and whether an id is the dialogue's own.
  slotCount: fc.integer({ min: 0, max: 3 }),
  ownId: fc.boolean(),
  systemClose: fc.boolean(),
  confirm: fc.boolean(),
  // HELP's confirm is optional: absent answers like true.
  helpConfirm: fc.constantFrom(undefined, true, false),
  source: fc.constantFrom('keyword', 'provider', 'carrier'),
  campaign: fc.constantFrom<CampaignStatus>('none', 'pending', 'approved', 'rejected'),
  messageStatus: fc.constantFrom('sent', 'delivered', 'failed'),
  timer: fc.constantFrom<TimerKind>('inactivity', 'humanIdle'),
  // Mostly the current token, sometimes an old or a future one.
  tokenOffset: fc.constantFrom(0, 0, 0, -1, -2, 1),
});

type Recipe = typeof recipe extends fc.Arbitrary<infer R> ? R : never;

function build(r: Recipe, at: string, context: ConversationContext): ConversationEvent {
  const chosen = FACT_VARIANTS[r.facts];
  const facts: ConversationFacts = {
    ...chosen,
    afterHours: r.afterHours,
    policy: { ...chosen.policy, humanIdleReleaseMinutes: r.humanIdleReleaseMinutes },
  };
  const base = { at, facts };
  const builders: { [T in ConversationEventType]: () => Extract<ConversationEvent, { type: T }> } = {
    MissedCall: () => ({ ...base, type: 'MissedCall', callSid: r.id }),
    InboundSms: () => ({ ...base, type: 'InboundSms', messageSid: r.id, body: r.body, mediaCount: 0 }),
    HumanTakeoverRequested: () => ({ ...base, type: 'HumanTakeoverRequested', operatorId: r.operatorId }),
    HumanReleased: () => ({ ...base, type: 'HumanReleased', operatorId: r.operatorId }),
    OperatorMessage: () => ({ ...base, type: 'OperatorMessage', operatorId: r.operatorId, body: r.body }),
    CloseRequested: () => ({
      ...base,
      type: 'CloseRequested',
      operatorId: r.systemClose ? null : r.operatorId,
    }),
    OptedOut: () => ({ ...base, type: 'OptedOut', source: r.source, confirm: r.confirm }),
    OptedIn: () => ({ ...base, type: 'OptedIn', confirm: r.confirm }),
    HelpRequested: () =>
      r.helpConfirm === undefined
        ? { ...base, type: 'HelpRequested' }
        : { ...base, type: 'HelpRequested', confirm: r.helpConfirm },
    CampaignStatusChanged: () => ({ ...base, type: 'CampaignStatusChanged', status: r.campaign }),
    MessageStatusChanged: () => ({
      ...base,
      type: 'MessageStatusChanged',
      messageId: r.id,
      status: r.messageStatus,
      errorCode: r.messageStatus === 'failed' ? r.body : null,
    }),
    HoldExpired: () => ({
      ...base,
      type: 'HoldExpired',
      holdId: r.ownId ? (context.dialogue.holdId ?? r.id) : r.id,
    }),
    PublicBookingCodeRequested: () => ({
      ...base,
      type: 'PublicBookingCodeRequested',
      holdId: r.id,
      code: '123456',
    }),
    SlotsFound: () => ({
      ...base,
      type: 'SlotsFound',
      serviceId: r.ownId ? (context.dialogue.serviceId ?? r.id) : r.id,
      slots: SLOTS.slice(0, r.slotCount),
    }),
    HoldPlaced: () => ({
      ...base,
      type: 'HoldPlaced',
      holdId: r.id,
      slot: context.dialogue.offered[r.slotCount % 3] ?? SLOTS[0]!,
      expiresAt: minutesAfter(at, 15),
    }),
    HoldFailed: () => ({ ...base, type: 'HoldFailed', reason: r.id }),
    Booked: () => ({
      ...base,
      type: 'Booked',
      appointmentId: r.id,
      slot: context.dialogue.held ?? SLOTS[0]!,
    }),
    BookingFailed: () => ({ ...base, type: 'BookingFailed', reason: r.id }),
    AppointmentCancelled: () => ({
      ...base,
      type: 'AppointmentCancelled',
      appointmentId: r.ownId ? (context.dialogue.appointmentId ?? r.id) : r.id,
    }),
    AppointmentMoved: () => ({
      ...base,
      type: 'AppointmentMoved',
      appointmentId: r.id,
      previousId: context.dialogue.appointmentId ?? r.id,
      slot: SLOTS[2]!,
    }),
    MoveFailed: () => ({ ...base, type: 'MoveFailed', reason: 'conflict' }),
    CancellationFailed: () => ({
      ...base,
      type: 'CancellationFailed',
      appointmentId: context.dialogue.appointmentId ?? r.id,
      reason: 'conflict',
    }),
    AppointmentReminderDue: () => ({
      ...base,
      type: 'AppointmentReminderDue',
      appointmentId: context.dialogue.appointmentId ?? r.id,
      serviceId: r.id,
      serviceName: 'Drain cleaning',
      slot: SLOTS[0]!,
      offsetMinutes: 120,
      link: null,
    }),
    AppointmentCompleted: () => ({
      ...base,
      type: 'AppointmentCompleted',
      appointmentId: context.dialogue.appointmentId ?? r.id,
    }),
    AppointmentCancelledElsewhere: () => ({
      ...base,
      type: 'AppointmentCancelledElsewhere',
      appointmentId: r.ownId ? (context.dialogue.appointmentId ?? r.id) : r.id,
    }),
    AppointmentMovedElsewhere: () => ({
      ...base,
      type: 'AppointmentMovedElsewhere',
      appointmentId: `${r.id}-moved`,
      previousId: r.ownId ? (context.dialogue.appointmentId ?? r.id) : r.id,
      slot: SLOTS[1]!,
    }),
    InactivityTimeout: () => ({
      ...base,
      type: 'InactivityTimeout',
      timer: r.timer,
      token: context.timerToken + r.tokenOffset,
    }),
  };
  return builders[r.type]();
}

describe('random event sequences', () => {
  // `closed` is final: the runtime starts a new conversation for the next missed call or text (docs/product.md),
  // so a sequence that closes goes on with a fresh one. What `closed` does with each event is the model
  // test's `closed` row, which covers every event variant there.
  it('keep the rules, round-trip through JSON, and never move the timer token back', () => {
    fc.assert(
      fc.property(fc.array(recipe, { minLength: 1, maxLength: 40 }), (recipes) => {
        let current = initialSnapshot();
        let elapsed = 0;
        let previousAt = Number.NEGATIVE_INFINITY;
        for (const r of recipes) {
          elapsed += r.advance;
          const event = build(r, minutes(elapsed), current.context);
          const at = Date.parse(event.at);
          expect(at).toBeGreaterThan(previousAt);
          previousAt = at;

          const result = checkedStep(current, event);
          expect(result.snapshot.context.timerToken).toBeGreaterThanOrEqual(current.context.timerToken);

          const json = JSON.stringify(result.snapshot);
          const revived = reviveSnapshot(JSON.parse(json), SNAPSHOT_SCHEMA_VERSION);
          expect(revived).toEqual(result.snapshot);
          expect(JSON.stringify(revived)).toBe(json);
          current = revived.value === 'closed' ? initialSnapshot() : revived;
        }
      }),
      { numRuns: 300 },
    );
  });
});
