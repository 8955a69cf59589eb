import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/domain/templates.ts';
import { type DialogueStep, INITIAL_DIALOGUE } from '../../../src/machines/booking-dialogue.ts';
import {
  type BookableSlot,
  type BookingRequest,
  type ConversationEvent,
  type ConversationFacts,
  type Effect,
  isBookingRequest,
} from '../../../src/machines/conversation-events.ts';
import {
  initialSnapshot,
  reviveSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  type StepResult,
  type StoredSnapshot,
  step,
} from '../../../src/machines/conversation-snapshot.ts';
import { sendBlockedBy } from '../../../src/machines/send-guard.ts';
import {
  type EventInput,
  HOSTILE_STRINGS,
  makeCatalogFacts,
  makeEvent,
  minutes,
  SLOTS,
} from './conversation-fixtures.ts';

// The booking dialogue inside `open`, through `step`. The runtime answers each request effect
// (findSlots, placeHold, confirmHold, releaseHold, cancelAppointment) with a follow-up event in the
// same transaction (src/runtime/dispatch.ts); here the test plays the runtime and feeds those answers.
//
// The catalog (conversation-fixtures.ts): Drain cleaning 60 min $149 ('clogged drain'), Water heater
// repair 90 min $229 ('no hot water', 'water heater'), Toilet repair 60 min $129. SLOTS are
// Tue 10:00, Tue 14:00 and Wed 09:00 in Los Angeles (18:00, 22:00 and 17:00 UTC).

type Sms = Extract<Effect, { type: 'sendSms' }>;

const STEPS: readonly DialogueStep[] = [
  'idle',
  'choosingService',
  'offering',
  'confirming',
  'booked',
  'confirmingCancel',
];

function sms(effects: readonly Effect[]): Sms[] {
  return effects.filter((e): e is Sms => e.type === 'sendSms');
}

function bodies(effects: readonly Effect[]): string[] {
  return sms(effects).map((e) => e.body);
}

function requests(effects: readonly Effect[]): BookingRequest[] {
  return effects.filter(isBookingRequest);
}

function suppressed(reason: string): Effect {
  return { type: 'emit', name: 'nmc.conversation.SendSuppressed', payload: { purpose: 'assistant', reason } };
}

/** A caller in an `open` conversation; every event is one minute after the previous one. */
class Caller {
  snapshot: StoredSnapshot = initialSnapshot();
  private clock = 0;

  facts: ConversationFacts;

  constructor(facts: ConversationFacts = makeCatalogFacts()) {
    this.facts = facts;
  }

  get dialogue() {
    return this.snapshot.context.dialogue;
  }

  apply(input: EventInput, facts: ConversationFacts = this.facts): StepResult {
    this.clock += 1;
    const result = step(this.snapshot, makeEvent(input, { at: minutes(this.clock), facts }));
    this.snapshot = result.snapshot;
    return result;
  }

  text(body: string, facts?: ConversationFacts): StepResult {
    return this.apply({ type: 'InboundSms', messageSid: `SM${this.clock}`, body, mediaCount: 0 }, facts);
  }
}

const text = (facts: ConversationFacts, template: string, values: Record<string, string> = {}) =>
  render(template, { business: facts.businessName, help: facts.helpText, ...values });

const DRAIN_QUOTE =
  'Drain cleaning is $149.00 and takes about 1 hour. Open times: 1) Tomorrow 10:00 AM 2) Tomorrow 2:00 PM 3) Wed Mar 5, 9:00 AM. Reply 1, 2 or 3.';
const EXPIRES = '2025-03-03T15:20:00.000Z';

/** Asked for drain cleaning and shown SLOTS. */
function offering(caller = new Caller()): Caller {
  caller.text('my drain is clogged');
  caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
  expect(caller.dialogue.step).toBe('offering');
  return caller;
}

/** Picked Tue 14:00 (option 2) and holding it as hold-1. */
function confirming(caller = new Caller()): Caller {
  offering(caller).text('2');
  caller.apply({ type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: EXPIRES });
  expect(caller.dialogue.step).toBe('confirming');
  return caller;
}

/** Booked Tue 14:00 as appt-1. */
function booked(caller = new Caller()): Caller {
  confirming(caller).text('yes');
  caller.apply({ type: 'Booked', appointmentId: 'appt-1', slot: SLOTS[1]! });
  expect(caller.dialogue.step).toBe('booked');
  return caller;
}

describe('the happy path', () => {
  it('matches the service, quotes it with three local times, holds the pick, books on YES and cancels', () => {
    const caller = new Caller();

    // A service: the dialogue asks the runtime for times, and says nothing yet.
    const asked = caller.text('my drain is clogged');
    expect(asked.handled).toBe(true);
    expect(asked.state).toBe('open');
    expect(requests(asked.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    expect(sms(asked.effects)).toEqual([]);
    expect(caller.dialogue).toEqual({ ...INITIAL_DIALOGUE, serviceId: 'svc-drain', offerReason: 'quote' });

    // Three times found: the quote, with the price and the times in Los Angeles, numbered.
    const quoted = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(quoted.handled).toBe(true);
    expect(sms(quoted.effects)).toEqual([
      { type: 'sendSms', body: DRAIN_QUOTE, purpose: 'assistant', operatorId: null },
    ]);
    const [quote = ''] = bodies(quoted.effects);
    expect(quote).toContain('$149.00');
    for (const n of ['1) ', '2) ', '3) ']) expect(quote).toContain(n);
    // Local wall-clock times, not UTC (18:00, 22:00 and 17:00 UTC).
    expect(quote).not.toMatch(/18:00|22:00|17:00/);
    expect(caller.dialogue.step).toBe('offering');
    expect(caller.dialogue.offered).toEqual(SLOTS);

    // "2": a hold on the second time.
    const picked = caller.text('2');
    expect(picked.effects.filter((e) => e.type !== 'notifyOperators' && e.type !== 'scheduleTimer')).toEqual([
      { type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[1] },
    ]);

    // The hold is placed: the caller is asked to confirm with YES.
    const held = caller.apply({ type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: EXPIRES });
    expect(bodies(held.effects)).toEqual([
      'Holding Tomorrow 2:00 PM for Drain cleaning ($149.00). Reply YES to book or NO to pick another time.',
    ]);
    expect(bodies(held.effects)[0]).toContain('YES');
    expect(caller.dialogue).toMatchObject({ step: 'confirming', holdId: 'hold-1', held: SLOTS[1] });

    // "yes": the hold is confirmed.
    const yes = caller.text('yes');
    expect(requests(yes.effects)).toEqual([{ type: 'confirmHold', holdId: 'hold-1' }]);
    expect(sms(yes.effects)).toEqual([]);

    // Booked: the booked text and an AppointmentBooked event.
    const done = caller.apply({ type: 'Booked', appointmentId: 'appt-1', slot: SLOTS[1]! });
    expect(bodies(done.effects)).toEqual([
      "You're booked: Drain cleaning on Tue Mar 4, 2:00 PM, $149.00. Reply CHANGE to move it or CANCEL APPOINTMENT to cancel.",
    ]);
    expect(done.effects).toContainEqual({
      type: 'emit',
      name: 'nmc.conversation.AppointmentBooked',
      payload: { appointment_id: 'appt-1', start: SLOTS[1]!.start },
    });
    expect(caller.dialogue).toMatchObject({
      step: 'booked',
      holdId: null,
      held: null,
      appointmentId: 'appt-1',
      booked: SLOTS[1],
    });

    // "cancel my appointment": confirmed first, then the runtime is asked to cancel it.
    const cancel = caller.text('cancel my appointment');
    expect(requests(cancel.effects)).toEqual([]);
    expect(bodies(cancel.effects)).toEqual([
      'Cancel your Tue Mar 4, 2:00 PM Drain cleaning? Reply YES to cancel or NO to keep it.',
    ]);
    const sure = caller.text('yes');
    expect(requests(sure.effects)).toEqual([{ type: 'cancelAppointment', appointmentId: 'appt-1' }]);
    expect(sms(sure.effects)).toEqual([]);

    // Cancelled: the cancelled text, and the dialogue starts over.
    const cancelled = caller.apply({ type: 'AppointmentCancelled', appointmentId: 'appt-1' });
    expect(bodies(cancelled.effects)).toEqual([
      'Your Drain cleaning on Tue Mar 4, 2:00 PM is cancelled. Text us anytime to book again.',
    ]);
    expect(cancelled.effects).toContainEqual({
      type: 'emit',
      name: 'nmc.conversation.AppointmentCancelled',
      payload: { appointment_id: 'appt-1' },
    });
    expect(caller.dialogue).toEqual(INITIAL_DIALOGUE);
    expect(caller.snapshot.value).toBe('open');

    // The whole dialogue survives the stored form at every point (here, at the end).
    expect(reviveSnapshot(JSON.parse(JSON.stringify(caller.snapshot)), SNAPSHOT_SCHEMA_VERSION)).toEqual(
      caller.snapshot,
    );
  });

  it('every inbound text still notifies operators and restarts the inactivity timer, and no acknowledgement is sent', () => {
    const caller = new Caller();
    const asked = caller.text('my drain is clogged');
    expect(asked.effects).toEqual([
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(1 + 1440), token: 1 },
      { type: 'findSlots', serviceId: 'svc-drain' },
    ]);
    expect(caller.snapshot.context.acknowledged).toBe(false);
  });

  it('writes times in the tenant time zone from the facts', () => {
    const caller = new Caller(makeCatalogFacts({ timeZone: 'America/New_York' }));
    caller.text('no hot water');
    const quoted = caller.apply({ type: 'SlotsFound', serviceId: 'svc-heater', slots: [...SLOTS] });
    expect(bodies(quoted.effects)).toEqual([
      'Water heater repair is $229.00 and takes about 1 h 30 min. Open times: 1) Tomorrow 1:00 PM 2) Tomorrow 5:00 PM 3) Wed Mar 5, 12:00 PM. Reply 1, 2 or 3.',
    ]);
  });

  it.each([
    ['the second', 1],
    ['#3', 2],
    ['option 1', 0],
    ['last', 2],
    ['tue 2pm', 1],
    ['wed 9', 2],
  ])('a pick by "%s" holds slot %i', (body, index) => {
    const caller = offering();
    expect(requests(caller.text(body).effects)).toEqual([
      { type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[index] },
    ]);
  });
});

describe('choosing a service', () => {
  it('an ambiguous text lists the candidates, and a number picks one', () => {
    const caller = new Caller();
    const asked = caller.text('water heater or toilet');
    expect(requests(asked.effects)).toEqual([]);
    expect(caller.dialogue.step).toBe('choosingService');
    expect([...caller.dialogue.candidates].sort()).toEqual(['svc-heater', 'svc-toilet']);
    const names = caller.dialogue.candidates.map((id) =>
      id === 'svc-heater' ? 'Water heater repair' : 'Toilet repair',
    );
    expect(bodies(asked.effects)).toEqual([
      `Did you mean 1) ${names[0]} 2) ${names[1]}? Reply with the number.`,
    ]);

    const chose = caller.text('1');
    const first = caller.snapshot.context.dialogue.serviceId;
    expect(first).toBe(asked.snapshot.context.dialogue.candidates[0]);
    expect(requests(chose.effects)).toEqual([{ type: 'findSlots', serviceId: first }]);
    expect(caller.dialogue.candidates).toEqual([]);

    const quoted = caller.apply({ type: 'SlotsFound', serviceId: first!, slots: [...SLOTS] });
    expect(bodies(quoted.effects)[0]).toMatch(
      /^(Toilet repair is \$129\.00|Water heater repair is \$229\.00)/,
    );
  });

  it('a number that is not a candidate is a misunderstanding', () => {
    const caller = new Caller();
    caller.text('water heater or toilet');
    const result = caller.text('7');
    expect(requests(result.effects)).toEqual([]);
    expect(caller.dialogue.misunderstandings).toBe(1);
    expect(bodies(result.effects)[0]).toMatch(/^Sorry, I didn't get that\./);
  });

  it('a clear service name still works while choosing', () => {
    const caller = new Caller();
    caller.text('water heater or toilet');
    expect(requests(caller.text('toilet repair').effects)).toEqual([
      { type: 'findSlots', serviceId: 'svc-toilet' },
    ]);
  });

  it('answers for another service than the one asked about are ignored', () => {
    const caller = new Caller();
    caller.text('my drain is clogged');
    const stale = caller.apply({ type: 'SlotsFound', serviceId: 'svc-toilet', slots: [...SLOTS] });
    expect(stale.handled).toBe(true);
    expect(stale.effects).toEqual([]);
    expect(caller.dialogue.step).toBe('idle');
  });
});

describe('losing the slot', () => {
  it('HoldFailed asks for fresh times and offers them with the slotTaken text', () => {
    const caller = offering();
    caller.text('2');
    const failed = caller.apply({ type: 'HoldFailed', reason: 'conflict' });
    expect(failed.effects).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    expect(caller.dialogue.offerReason).toBe('taken');
    const fresh = [SLOTS[0]!, SLOTS[2]!];
    const offered = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: fresh });
    expect(bodies(offered.effects)).toEqual([
      'Sorry, that time was just taken. Open times now: 1) Tomorrow 10:00 AM 2) Wed Mar 5, 9:00 AM. Reply 1, 2 or 3.',
    ]);
    expect(caller.dialogue.offered).toEqual(fresh);
  });

  it('BookingFailed after YES offers fresh times the same way', () => {
    const caller = confirming();
    caller.text('yes');
    const failed = caller.apply({ type: 'BookingFailed', reason: 'conflict' });
    expect(failed.effects).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    expect(caller.dialogue).toMatchObject({ holdId: null, held: null, offerReason: 'taken' });
    const offered = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [SLOTS[2]!] });
    expect(bodies(offered.effects)[0]).toMatch(
      /^Sorry, that time was just taken\. Open times now: 1\) Wed Mar 5, 9:00 AM\./,
    );
  });

  it('HoldExpired for the current hold asks for fresh times and offers them with the holdExpired text', () => {
    const caller = confirming();
    const expired = caller.apply({ type: 'HoldExpired', holdId: 'hold-1' });
    expect(expired.handled).toBe(true);
    expect(expired.effects).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    expect(caller.dialogue).toMatchObject({ holdId: null, held: null, offerReason: 'expired' });
    const offered = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(bodies(offered.effects)).toEqual([
      'That time was released. Open times now: 1) Tomorrow 10:00 AM 2) Tomorrow 2:00 PM 3) Wed Mar 5, 9:00 AM. Reply 1, 2 or 3.',
    ]);
    expect(caller.dialogue.step).toBe('offering');
  });

  it('HoldExpired for another hold is ignored', () => {
    const caller = confirming();
    const before = caller.snapshot;
    for (const holdId of ['hold-0', 'HOLD-1', '', '__proto__']) {
      const result = caller.apply({ type: 'HoldExpired', holdId });
      expect(result.handled).toBe(false);
      expect(result.effects).toEqual([]);
      expect(caller.snapshot).toEqual(before);
    }
  });

  it('"no" while confirming releases the hold and offers times again', () => {
    const caller = confirming();
    const no = caller.text('no');
    expect(requests(no.effects)).toEqual([
      { type: 'releaseHold', holdId: 'hold-1' },
      { type: 'findSlots', serviceId: 'svc-drain' },
    ]);
    expect(caller.dialogue).toMatchObject({ holdId: null, held: null, offerReason: 'again' });
    const offered = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(bodies(offered.effects)).toEqual([
      'Open times: 1) Tomorrow 10:00 AM 2) Tomorrow 2:00 PM 3) Wed Mar 5, 9:00 AM. Reply 1, 2 or 3.',
    ]);
  });

  it('another pick while confirming releases the held one before holding the new one', () => {
    const caller = confirming();
    expect(requests(caller.text('3').effects)).toEqual([
      { type: 'releaseHold', holdId: 'hold-1' },
      { type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[2] },
    ]);
  });

  it('no open times: the noSlots text, and a person is alerted', () => {
    const caller = new Caller();
    caller.text('my drain is clogged');
    const none = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [] });
    expect(bodies(none.effects)).toEqual([
      'Drain cleaning is $149.00. We have no open times in the next days; a person from Acme Plumbing will text you.',
    ]);
    expect(none.effects).toContainEqual({ type: 'notifyOperators', reason: 'no_open_times' });
    expect(caller.dialogue).toMatchObject({ step: 'idle', offered: [] });
  });
});

describe('misunderstandings', () => {
  it('a text that is not understood gets a hint for the step', () => {
    const fresh = new Caller();
    const first = fresh.text('asdf');
    expect(bodies(first.effects)).toEqual([
      "Sorry, I didn't get that. What can we help with? For example: drain cleaning, water heater repair, toilet repair.",
    ]);
    const offered = offering();
    expect(bodies(offered.text('hmm').effects)).toEqual([
      "Sorry, I didn't get that. Reply 1, 2 or 3 for 1) Tomorrow 10:00 AM 2) Tomorrow 2:00 PM 3) Wed Mar 5, 9:00 AM.",
    ]);
    const held = confirming();
    expect(bodies(held.text('hmm').effects)).toEqual([
      "Sorry, I didn't get that. Reply YES to book or NO to pick another time.",
    ]);
  });

  it('"maybe later" while being offered times is not a request for a water heater', () => {
    const caller = offering();
    const result = caller.text('maybe later');
    expect(requests(result.effects)).toEqual([]);
    expect(caller.dialogue.serviceId).toBe('svc-drain');
  });

  it('after three in a row a person takes over: the handedToHuman text, and operators are told', () => {
    const caller = new Caller();
    caller.text('asdf');
    caller.text('qwerty');
    expect(caller.dialogue.misunderstandings).toBe(2);
    const third = caller.text('zzz');
    expect(third.handled).toBe(true);
    expect(third.state).toBe('human');
    expect(caller.snapshot.context.assignedTo).toBeNull();
    expect(third.effects).toEqual([
      {
        type: 'sendSms',
        body: text(caller.facts, caller.facts.templates.handedToHuman, { when: 'shortly' }),
        purpose: 'assistant',
        operatorId: null,
      },
      {
        type: 'emit',
        name: 'nmc.conversation.HandedToHuman',
        payload: { reason: 'repeated_misunderstanding' },
      },
      { type: 'notifyOperators', reason: 'repeated_misunderstanding' },
    ]);
    // In human the assistant is quiet (a person reads the text) and the dialogue's answers are ignored.
    const after = caller.text('my drain is clogged');
    expect(after.effects).toEqual([{ type: 'notifyOperators', reason: 'message_while_human' }]);
    expect(caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] }).handled).toBe(
      false,
    );
  });

  it('an understood text resets the count', () => {
    const caller = new Caller();
    caller.text('asdf');
    caller.text('qwerty');
    caller.text('my drain is clogged');
    expect(caller.dialogue.misunderstandings).toBe(0);
    caller.text('asdf');
    expect(caller.snapshot.value).toBe('open');
  });

  it('uses maxMisunderstandings from the event policy', () => {
    const caller = new Caller(makeCatalogFacts({ policy: { maxMisunderstandings: 1 } }));
    expect(caller.text('asdf').state).toBe('human');
  });

  it('after a hand-over and a release, the count starts over', () => {
    const caller = new Caller();
    for (const body of ['asdf', 'qwerty', 'zzz']) caller.text(body);
    expect(caller.snapshot.value).toBe('human');
    caller.apply({ type: 'HumanReleased', operatorId: 'op-1' });
    expect(caller.snapshot.value).toBe('open');
    const next = caller.text('huh');
    expect(next.state).toBe('open');
  });
});

describe('booked', () => {
  it('CHANGE offers times to move the appointment to; the booked one does not block them', () => {
    const caller = booked();
    const change = caller.text('I need to reschedule');
    expect(requests(change.effects)).toEqual([
      { type: 'findSlots', serviceId: 'svc-drain', moving: 'appt-1' },
    ]);
    expect(caller.dialogue).toMatchObject({ moving: true, offerReason: 'move' });
    const offered = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(bodies(offered.effects)).toEqual([
      'Move your Drain cleaning to: 1) Tomorrow 10:00 AM 2) Tomorrow 2:00 PM 3) Wed Mar 5, 9:00 AM? Reply 1, 2 or 3.',
    ]);
    expect(caller.dialogue.step).toBe('offering');
  });

  it('a pick while moving is one atomic move; the text says the old time is released', () => {
    const caller = booked();
    caller.text('I need to reschedule');
    caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    const pick = caller.text('3');
    expect(requests(pick.effects)).toEqual([
      { type: 'moveAppointment', appointmentId: 'appt-1', slot: SLOTS[2] },
    ]);
    const moved = caller.apply({
      type: 'AppointmentMoved',
      appointmentId: 'appt-2',
      previousId: 'appt-1',
      slot: SLOTS[2]!,
    });
    expect(bodies(moved.effects)).toEqual([
      'Done: your Drain cleaning is now on Wed Mar 5, 9:00 AM. Your old time, Tue Mar 4, 2:00 PM, is released.',
    ]);
    expect(caller.dialogue).toMatchObject({
      step: 'booked',
      appointmentId: 'appt-2',
      booked: SLOTS[2],
      moving: false,
    });
  });

  it('a move that fails keeps the appointment and offers other times', () => {
    const caller = booked();
    caller.text('I need to reschedule');
    caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    caller.text('3');
    const failed = caller.apply({ type: 'MoveFailed', reason: 'conflict' });
    expect(requests(failed.effects)).toEqual([
      { type: 'findSlots', serviceId: 'svc-drain', moving: 'appt-1' },
    ]);
    expect(caller.dialogue.appointmentId).toBe('appt-1');
  });

  it('"cancel" alone is not a cancellation (it is a carrier opt-out keyword, handled before)', () => {
    const caller = booked();
    const result = caller.text('cancel');
    expect(requests(result.effects)).toEqual([]);
    expect(caller.dialogue.misunderstandings).toBe(1);
  });

  it('AppointmentCancelled for another appointment is ignored by the dialogue', () => {
    const caller = booked();
    const before = caller.dialogue;
    const result = caller.apply({ type: 'AppointmentCancelled', appointmentId: 'appt-9' });
    expect(result.handled).toBe(true);
    expect(result.effects).toEqual([]);
    expect(caller.dialogue).toEqual(before);
  });

  it('a failed cancellation does not offer new times as if the slot were taken', () => {
    const caller = booked();
    caller.text('cancel my appointment');
    caller.text('yes');
    const failed = caller.apply({ type: 'CancellationFailed', appointmentId: 'appt-1', reason: 'conflict' });
    expect(requests(failed.effects)).toEqual([]);
    expect(failed.effects.filter((e) => e.type === 'notifyOperators' || e.type === 'sendSms')).toEqual([]);
    expect(caller.dialogue.step).toBe('booked');
  });
});

describe('gates and compliance', () => {
  it.each([
    ['the assistant gate is closed', makeCatalogFacts({ gates: { assistant: false } })],
    ['the sms gate is closed', makeCatalogFacts({ gates: { sms: false } })],
    ['the campaign is pending', makeCatalogFacts({ campaignStatus: 'pending' })],
    ['the caller opted out', makeCatalogFacts({ optedOut: true })],
  ])('makes no booking request while %s', (_, facts) => {
    const caller = new Caller(facts);
    expect(requests(caller.text('my drain is clogged').effects)).toEqual([]);
  });

  it.each([
    ['sms gate closed', makeCatalogFacts({ gates: { sms: false } }), 'sms_gate_closed'],
    ['campaign pending', makeCatalogFacts({ campaignStatus: 'pending' }), 'campaign_not_approved'],
    ['opted out', makeCatalogFacts({ optedOut: true }), 'opted_out'],
  ])('with %s every dialogue text is held back', (_, facts, reason) => {
    const caller = new Caller(facts);
    const results = [
      caller.text('my drain is clogged'),
      caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] }),
      caller.text('maybe'),
      caller.text('2'),
      caller.apply({ type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: EXPIRES }),
    ];
    for (const result of results) {
      expect(sms(result.effects)).toEqual([]);
    }
    expect(results.flatMap((r) => r.effects)).toContainEqual(suppressed(reason));
  });
});

// ---------------------------------------------------------------------------------------------------
// Random dialogues: random texts and random answers of the runtime, with random facts per text. The
// test plays the runtime the way dispatch.ts does: each request is answered at once with a follow-up
// event carrying the same facts, whose effects are handled before the remaining ones.

const FACTS = {
  allowed: makeCatalogFacts(),
  'assistant gate closed': makeCatalogFacts({ gates: { assistant: false } }),
  'sms gate closed': makeCatalogFacts({ gates: { sms: false } }),
  'campaign pending': makeCatalogFacts({ campaignStatus: 'pending' }),
  'campaign rejected': makeCatalogFacts({ campaignStatus: 'rejected' }),
  'opted out': makeCatalogFacts({ optedOut: true }),
  'short patience': makeCatalogFacts({ policy: { maxMisunderstandings: 1 } }),
} satisfies Record<string, ConversationFacts>;

/** Bookable times around the 2025-03-09 DST change in Los Angeles, and the SLOTS. */
const POOL: readonly BookableSlot[] = [
  ...SLOTS,
  { resourceId: 'res-1', start: '2025-03-08T18:00:00.000Z', end: '2025-03-08T19:00:00.000Z' }, // Sat 10:00 PST
  { resourceId: 'res-2', start: '2025-03-09T10:30:00.000Z', end: '2025-03-09T11:30:00.000Z' }, // Sun 03:30 PDT
  { resourceId: 'res-1', start: '2025-03-10T17:00:00.000Z', end: '2025-03-10T18:00:00.000Z' }, // Mon 10:00 PDT
];

const DIALOGUE_TEXTS = [
  'my drain is clogged',
  'no hot water',
  'toilet repair',
  'water heater or toilet',
  '1',
  '2',
  '3',
  '#2',
  'the second',
  'last',
  'tue 10',
  '2pm',
  'yes',
  'Yes please',
  'no',
  'change',
  'reschedule',
  'cancel my appointment',
  'cancel',
  'when is my appointment?',
  'can you come tomorrow at 3pm?',
  'none of those work',
  'saturday?',
  'I want to talk to a person',
  'pipe burst, water everywhere',
  'necesito arreglar mi inodoro',
  '👍',
];

const turn = fc.record({
  kind: fc.constantFrom('text', 'text', 'text', 'text', 'holdExpired', 'takeover', 'release'),
  body: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...DIALOGUE_TEXTS) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  ),
  facts: fc.constantFrom(...(Object.keys(FACTS) as (keyof typeof FACTS)[])),
  /** Drives the runtime's answers in this turn. */
  answers: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
});

type Turn = typeof turn extends fc.Arbitrary<infer T> ? T : never;

function answerFor(request: BookingRequest, choice: number): EventInput | null {
  switch (request.type) {
    case 'findSlots': {
      const count = choice % 4;
      const start = Math.floor(choice / 4) % POOL.length;
      const slots = [...POOL, ...POOL].slice(start, start + count);
      return { type: 'SlotsFound', serviceId: request.serviceId, slots };
    }
    case 'placeHold':
      return choice % 3 === 0
        ? { type: 'HoldFailed', reason: 'conflict' }
        : { type: 'HoldPlaced', holdId: `hold-${choice}`, slot: request.slot, expiresAt: EXPIRES };
    case 'confirmHold':
      return choice % 3 === 0
        ? { type: 'BookingFailed', reason: 'conflict' }
        : { type: 'Booked', appointmentId: `appt-${choice}`, slot: POOL[choice % POOL.length]! };
    case 'releaseHold':
      return null;
    case 'cancelAppointment':
      return choice % 4 === 0
        ? { type: 'BookingFailed', reason: 'cancel_failed' }
        : { type: 'AppointmentCancelled', appointmentId: request.appointmentId };
    case 'moveAppointment':
      return choice % 3 === 0
        ? { type: 'MoveFailed', reason: 'conflict' }
        : {
            type: 'AppointmentMoved',
            appointmentId: `appt-moved-${choice}`,
            previousId: request.appointmentId,
            slot: request.slot,
          };
  }
}

function checkDialogue(snapshot: StoredSnapshot): void {
  const { dialogue } = snapshot.context;
  expect(STEPS).toContain(dialogue.step);
  expect(dialogue.offered.length).toBeLessThanOrEqual(3);
  expect(dialogue.misunderstandings).toBeGreaterThanOrEqual(0);
  if (dialogue.step === 'confirming') expect(dialogue.serviceId).not.toBeNull();
  if (dialogue.holdId !== null) expect(dialogue.held).not.toBeNull();
}

function checkEffects(event: ConversationEvent, result: StepResult): void {
  for (const sent of sms(result.effects)) {
    // Nothing leaves that the facts forbid; the assistant speaks only from open.
    expect(sendBlockedBy(sent.purpose, event.facts), `${event.type}: ${sent.purpose}`).toBeNull();
    if (sent.purpose === 'assistant') expect(result.previousState).toBe('open');
  }
}

/** One turn through `step` and the simulated runtime; returns the snapshot after every follow-up. */
function play(snapshot: StoredSnapshot, t: Turn, at: string): StoredSnapshot {
  const facts = FACTS[t.facts];
  const input: EventInput =
    t.kind === 'text'
      ? { type: 'InboundSms', messageSid: 'SM1', body: t.body, mediaCount: 0 }
      : t.kind === 'holdExpired'
        ? { type: 'HoldExpired', holdId: snapshot.context.dialogue.holdId ?? 'hold-none' }
        : t.kind === 'takeover'
          ? { type: 'HumanTakeoverRequested', operatorId: 'op-1' }
          : { type: 'HumanReleased', operatorId: 'op-1' };
  const event = makeEvent(input, { at, facts });
  let result = step(snapshot, event);
  checkEffects(event, result);
  checkDialogue(result.snapshot);
  const pending: Effect[] = [...result.effects];
  let followUps = 0;
  let answer = 0;
  while (pending.length > 0) {
    const effect = pending.shift()!;
    if (!isBookingRequest(effect)) continue;
    const next = answerFor(effect as BookingRequest, t.answers[answer++ % t.answers.length]!);
    if (next === null) continue;
    followUps += 1;
    // dispatch.ts gives up after six follow-ups: the dialogue must settle well before that.
    expect(followUps).toBeLessThanOrEqual(6);
    const followUp = makeEvent(next, { at, facts });
    result = step(result.snapshot, followUp);
    expect(result.handled, `${followUp.type} after ${event.type}`).toBe(true);
    checkEffects(followUp, result);
    checkDialogue(result.snapshot);
    pending.unshift(...result.effects);
  }
  return result.snapshot;
}

describe('random dialogues', () => {
  it('never send an assistant text the facts forbid, keep a known step, offer at most three times, and settle', () => {
    fc.assert(
      fc.property(fc.array(turn, { minLength: 1, maxLength: 30 }), (turns) => {
        let snapshot = initialSnapshot();
        for (const [i, t] of turns.entries()) {
          snapshot = play(snapshot, t, minutes(i + 1));
          const revived = reviveSnapshot(JSON.parse(JSON.stringify(snapshot)), SNAPSHOT_SCHEMA_VERSION);
          expect(revived).toEqual(snapshot);
        }
      }),
      // Each text is read by the understanding layer (a few ms): fewer runs, a longer budget.
      { numRuns: 100 },
    );
  }, 60_000);

  it('reach a booking when the caller and the runtime cooperate', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('my drain is clogged', 'no hot water', 'toilet repair'),
        fc.constantFrom('1', '2', '3', 'the second', 'last'),
        fc.constantFrom('yes', 'Yes please', 'ok', 'sure', 'confirm'),
        (service, pick, yes) => {
          let snapshot = initialSnapshot();
          const cooperative: Turn['answers'] = [1, 1, 1, 1, 1, 1, 1, 1].map((n) => n * 7);
          for (const [i, body] of [service, pick, yes].entries()) {
            snapshot = play(
              snapshot,
              { kind: 'text', body, facts: 'allowed', answers: cooperative },
              minutes(i + 1),
            );
          }
          expect(snapshot.context.dialogue.step).toBe('booked');
          expect(snapshot.context.dialogue.appointmentId).not.toBeNull();
        },
      ),
    );
  });
});
