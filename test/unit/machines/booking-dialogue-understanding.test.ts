import { describe, expect, it } from 'vitest';
import {
  type BookableSlot,
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
import { type EventInput, makeCatalogFacts, makeEvent, minutes, SLOTS } from './conversation-fixtures.ts';

// The decisions the dialogue makes on what a text means (the understanding layer's reading): asked
// times, picks, none-of-these, a yes after a lapsed hold, the booking remembered (when, move,
// cancel, STOP), triage with typed alert reasons, Spanish, and one reply to a burst. The test plays
// the runtime, as in booking-dialogue.test.ts. Now is Mon 2025-03-03 ~07:00 in Los Angeles; SLOTS
// are Tue 10:00, Tue 14:00 and Wed 09:00 local.

const requests = (effects: readonly Effect[]) => effects.filter(isBookingRequest);
const bodies = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === 'sendSms' ? [e.body] : []));
const alerts = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.type === 'notifyOperators' ? [e.reason] : []));
const EXPIRES = minutes(20);

class Caller {
  snapshot: StoredSnapshot = initialSnapshot();
  clock = 0;
  facts: ConversationFacts;

  constructor(facts: ConversationFacts = makeCatalogFacts()) {
    this.facts = facts;
  }
  get dialogue() {
    return this.snapshot.context.dialogue;
  }
  apply(input: EventInput, facts: ConversationFacts = this.facts, seconds = 60): StepResult {
    this.clock += seconds / 60;
    const result = step(this.snapshot, makeEvent(input, { at: minutes(this.clock), facts }));
    this.snapshot = result.snapshot;
    return result;
  }
  text(body: string, facts?: ConversationFacts, seconds?: number): StepResult {
    return this.apply(
      { type: 'InboundSms', messageSid: `SM${this.clock}`, body, mediaCount: 0 },
      facts,
      seconds,
    );
  }
}

function offering(caller = new Caller(), slots: BookableSlot[] = [...SLOTS]): Caller {
  caller.text('my drain is clogged');
  caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots });
  return caller;
}

function confirming(caller = new Caller()): Caller {
  offering(caller).text('2');
  caller.apply({ type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: EXPIRES });
  return caller;
}

function booked(caller = new Caller()): Caller {
  confirming(caller).text('yes');
  caller.apply({ type: 'Booked', appointmentId: 'appt-1', slot: SLOTS[1]! });
  expect(caller.dialogue.step).toBe('booked');
  return caller;
}

describe('honouring what was asked', () => {
  it('a need with a time asks the runtime for that time; an open one is held at once', () => {
    const caller = new Caller();
    const asked = caller.text('can you come tomorrow at 2pm? my drain is clogged');
    expect(requests(asked.effects)).toEqual([
      {
        type: 'findSlots',
        serviceId: 'svc-drain',
        search: {
          kind: 'ask',
          ask: { date: '2025-03-04', until: null, at: '14:00', after: null, before: null, partOfDay: null },
        },
      },
    ]);
    const found = caller.apply({
      type: 'SlotsFound',
      serviceId: 'svc-drain',
      slots: [SLOTS[1]!],
      outcome: 'exact',
    });
    expect(requests(found.effects)).toEqual([{ type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[1] }]);
    expect(bodies(found.effects)).toEqual([]);
  });

  it('an asked time that is not open gets the nearest, saying which time was asked', () => {
    const caller = new Caller();
    caller.text('can you come tomorrow at 3pm? my drain is clogged');
    const near = caller.apply({
      type: 'SlotsFound',
      serviceId: 'svc-drain',
      slots: [SLOTS[0]!, SLOTS[1]!],
      outcome: 'nearest',
    });
    expect(bodies(near.effects)).toEqual([
      'Tomorrow 3:00 PM is not open. Nearest times: 1) Tomorrow 10:00 AM 2) Tomorrow 2:00 PM. Reply 1, 2 or 3.',
    ]);
  });

  it('a closed day says so and offers the next open day', () => {
    const caller = offering();
    const ask = caller.text('saturday?');
    expect(requests(ask.effects)[0]).toMatchObject({ type: 'findSlots', search: { kind: 'ask' } });
    const closed = caller.apply({
      type: 'SlotsFound',
      serviceId: 'svc-drain',
      slots: [...SLOTS],
      outcome: 'closed',
      closedDate: '2025-03-08',
    });
    expect(bodies(closed.effects)[0]).toMatch(/^We're closed Sat Mar 8\. Open times: 1\) Tomorrow 10:00 AM/);
  });

  it('"none of those" offers the next times after the last one offered', () => {
    const caller = offering();
    const none = caller.text('none of those times work');
    expect(requests(none.effects)).toEqual([
      { type: 'findSlots', serviceId: 'svc-drain', search: { kind: 'after', after: SLOTS[2]!.start } },
    ]);
    const next = caller.apply({
      type: 'SlotsFound',
      serviceId: 'svc-drain',
      slots: [SLOTS[2]!],
      outcome: 'next',
    });
    expect(bodies(next.effects)[0]).toMatch(/^Next open times: 1\) Wed Mar 5, 9:00 AM/);
  });

  it('"fine. 1" holds option 1, not one o\'clock', () => {
    const caller = offering();
    expect(requests(caller.text('fine. 1').effects)).toEqual([
      { type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[0] },
    ]);
  });

  it('👍 to a held time is yes', () => {
    const caller = confirming();
    expect(requests(caller.text('👍').effects)).toEqual([{ type: 'confirmHold', holdId: 'hold-1' }]);
  });
});

describe('a yes just after the hold lapsed', () => {
  it('books the same time when it is still free (the runtime re-books the lapsed hold)', () => {
    const caller = confirming();
    caller.apply({ type: 'HoldExpired', holdId: 'hold-1' });
    caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    const yes = caller.text('yes book it');
    expect(requests(yes.effects)).toEqual([{ type: 'confirmHold', holdId: 'hold-1' }]);
    const done = caller.apply({ type: 'Booked', appointmentId: 'appt-1', slot: SLOTS[1]! });
    expect(bodies(done.effects)[0]).toMatch(/^You're booked: Drain cleaning on Tue Mar 4, 2:00 PM/);
    expect(alerts(done.effects)).toEqual([]);
  });

  it('when the time is gone, offers fresh times and alerts a person', () => {
    const caller = confirming();
    caller.apply({ type: 'HoldExpired', holdId: 'hold-1' });
    caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    caller.text('yes');
    const failed = caller.apply({ type: 'BookingFailed', reason: 'conflict' });
    expect(alerts(failed.effects)).toEqual(['hold_lapsed_after_yes']);
    expect(requests(failed.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
  });
});

describe('the booking is remembered', () => {
  it('"when is my appointment" tells it; without one, says there is none', () => {
    expect(bodies(booked().text('when is my appointment again?').effects)).toEqual([
      'Your Drain cleaning is on Tue Mar 4, 2:00 PM. Reply CHANGE to move it or CANCEL APPOINTMENT to cancel.',
    ]);
    expect(bodies(new Caller().text('when is my appointment again?').effects)).toEqual([
      'You have no appointment with us yet. What can we help with?',
    ]);
  });

  it('cancelling is confirmed first; NO keeps the appointment', () => {
    const caller = booked();
    const ask = caller.text('need to cancel, something came up');
    expect(bodies(ask.effects)).toEqual([
      'Cancel your Tue Mar 4, 2:00 PM Drain cleaning? Reply YES to cancel or NO to keep it.',
    ]);
    expect(requests(ask.effects)).toEqual([]);
    const keep = caller.text('nope');
    expect(bodies(keep.effects)).toEqual(['OK, your Drain cleaning on Tue Mar 4, 2:00 PM stays booked.']);
    expect(caller.dialogue).toMatchObject({ step: 'booked', appointmentId: 'appt-1' });
  });

  it('a day asked with a booking is where to move it', () => {
    const caller = booked();
    const move = caller.text('can we do thursday instead');
    expect(requests(move.effects)).toEqual([
      {
        type: 'findSlots',
        serviceId: 'svc-drain',
        search: {
          kind: 'ask',
          ask: { date: '2025-03-06', until: null, at: null, after: null, before: null, partOfDay: null },
        },
        moving: 'appt-1',
      },
    ]);
    // An exact asked time while moving is moved to at once, in one atomic request.
    const exact = caller.apply({
      type: 'SlotsFound',
      serviceId: 'svc-drain',
      slots: [SLOTS[2]!],
      outcome: 'exact',
    });
    expect(requests(exact.effects)).toEqual([
      { type: 'moveAppointment', appointmentId: 'appt-1', slot: SLOTS[2] },
    ]);
  });

  it('STOP with a live appointment: the confirmation says it stands and how to cancel; a person is alerted', () => {
    const caller = booked();
    const stop = caller.apply({ type: 'OptedOut', source: 'keyword', confirm: true });
    expect(stop.state).toBe('blocked');
    expect(bodies(stop.effects)).toEqual([
      "Acme Plumbing: You're unsubscribed. Your Drain cleaning on Tue Mar 4, 2:00 PM still stands; to cancel, call +13105551212. Reply START to undo.",
    ]);
    expect(alerts(stop.effects)).toEqual(['opted_out_with_appointment']);
    // Without an appointment: the plain confirmation, no alert.
    const plain = new Caller().apply({ type: 'OptedOut', source: 'keyword', confirm: true });
    expect(alerts(plain.effects)).toEqual([]);
    expect(bodies(plain.effects)[0]).toContain("You're unsubscribed and will get no more messages");
  });
});

describe('triage', () => {
  it('asking for a person hands over at once, with the reason', () => {
    const caller = offering();
    const result = caller.text('can I speak to someone');
    expect(result.state).toBe('human');
    expect(bodies(result.effects)).toEqual(['Sure. A person from Acme Plumbing will text you shortly.']);
    expect(alerts(result.effects)).toEqual(['handover_requested']);
  });

  it('after hours, the handover says when a person will actually answer', () => {
    const facts = makeCatalogFacts({ afterHours: true, nextOpeningAt: '2025-03-04T16:00:00.000Z' });
    const result = new Caller(facts).text('can I speak to someone');
    expect(bodies(result.effects)).toEqual([
      'Sure. A person from Acme Plumbing will text you when we open, Tomorrow 8:00 AM.',
    ]);
  });

  it('anger gets an apology and a person', () => {
    const result = new Caller().text("this is the worst service ever, I'm done");
    expect(result.state).toBe('human');
    expect(bodies(result.effects)[0]).toMatch(/^I'm sorry about this\./);
    expect(alerts(result.effects)).toEqual(['complaint']);
  });

  it('an emergency with a service: the safety step and the earliest time held, and an urgent alert', () => {
    const caller = new Caller();
    const urgent = caller.text('my toilet is overflowing, water everywhere');
    expect(alerts(urgent.effects)).toEqual(['emergency']);
    expect(requests(urgent.effects)).toEqual([
      { type: 'findSlots', serviceId: 'svc-toilet', search: { kind: 'earliest' } },
    ]);
    const found = caller.apply({
      type: 'SlotsFound',
      serviceId: 'svc-toilet',
      slots: [SLOTS[0]!],
      outcome: 'exact',
    });
    expect(requests(found.effects)).toEqual([{ type: 'placeHold', serviceId: 'svc-toilet', slot: SLOTS[0] }]);
    const held = caller.apply({ type: 'HoldPlaced', holdId: 'hold-9', slot: SLOTS[0]!, expiresAt: EXPIRES });
    expect(bodies(held.effects)[0]).toMatch(
      /^Please shut off the main water valve now.*Earliest visit: Tomorrow 10:00 AM, Toilet repair \(\$129\.00\)\. Reply YES/,
    );
  });

  it('an emergency with nothing to book hands over with the safety step', () => {
    const result = new Caller().text('pipe burst water everywhere');
    expect(result.state).toBe('human');
    expect(bodies(result.effects)[0]).toMatch(/^Please shut off the main water valve now/);
    expect(alerts(result.effects)).toEqual(['emergency']);
  });

  it('something the business does not do: says so, offers a call back, alerts', () => {
    const caller = new Caller();
    const result = caller.text('do you fix air conditioners?');
    expect(result.state).toBe('open');
    expect(bodies(result.effects)[0]).toMatch(
      /^Sorry, Acme Plumbing doesn't do air conditioning\. A person can call you back/,
    );
    expect(alerts(result.effects)).toEqual(['out_of_scope']);
  });

  it('Spanish is answered in Spanish', () => {
    const caller = new Caller();
    caller.text('necesito destapar el drenaje de la cocina');
    const quote = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(bodies(quote.effects)[0]).toMatch(
      /^Drain cleaning cuesta \$149\.00 y dura unos 1 hour\. Horarios: 1\) mañana 10:00/,
    );
  });

  it('plain texts raise no alert', () => {
    const caller = new Caller();
    for (const body of ['my drain is clogged', 'hi', 'thanks!'])
      expect(alerts(caller.text(body).effects)).toEqual([]);
  });
});

describe('one reply to a burst', () => {
  it('four texts within seconds are read together and answered once; stale timers do nothing', () => {
    const caller = new Caller(makeCatalogFacts({ replyDelaySeconds: 4 }));
    const timers: { token: number; fireAt: string }[] = [];
    for (const body of ['hi', 'my drain is clogged', 'kitchen sink', 'can you come tomorrow?']) {
      const result = caller.text(body, undefined, 2);
      expect(bodies(result.effects)).toEqual([]);
      expect(requests(result.effects)).toEqual([]);
      for (const e of result.effects) if (e.type === 'scheduleTimer' && e.timer === 'burst') timers.push(e);
    }
    expect(timers.map((t) => t.token)).toEqual([1, 2, 3, 4]);
    expect(caller.snapshot.context.pendingTexts).toHaveLength(4);
    // An earlier timer is stale: nothing happens.
    const stale = caller.apply({ type: 'InactivityTimeout', timer: 'burst', token: 2 }, undefined, 1);
    expect(stale.effects).toEqual([]);
    // The last one reads all four at once: one request for times, then one reply.
    const due = caller.apply({ type: 'InactivityTimeout', timer: 'burst', token: 4 }, undefined, 4);
    expect(requests(due.effects)).toEqual([
      expect.objectContaining({ type: 'findSlots', serviceId: 'svc-drain' }),
    ]);
    expect(caller.snapshot.context.pendingTexts).toEqual([]);
    const quote = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(bodies(quote.effects)).toHaveLength(1);
    // The same timer again (a redelivered job) finds nothing pending.
    expect(caller.apply({ type: 'InactivityTimeout', timer: 'burst', token: 4 }).effects).toEqual([]);
  });
});

describe('a burst cut short', () => {
  it('an operator taking over or an opt-out drops the texts waiting for a reply', () => {
    for (const input of [
      { type: 'HumanTakeoverRequested' as const, operatorId: 'op-1' },
      { type: 'OptedOut' as const, source: 'keyword' as const, confirm: false },
    ]) {
      const caller = new Caller(makeCatalogFacts({ replyDelaySeconds: 4 }));
      caller.text('my drain is clogged', undefined, 1);
      expect(caller.snapshot.context.pendingTexts).toHaveLength(1);
      caller.apply(input);
      expect(caller.snapshot.context.pendingTexts).toEqual([]);
      // The burst timer then finds nothing to answer.
      const due = caller.apply({ type: 'InactivityTimeout', timer: 'burst', token: 1 });
      expect(bodies(due.effects)).toEqual([]);
    }
  });
});

describe('a flood of texts', () => {
  it('keeps the last few waiting, so the stored snapshot stays valid', () => {
    const caller = new Caller(makeCatalogFacts({ replyDelaySeconds: 4 }));
    for (let i = 0; i < 80; i++) caller.text(`text ${i}`, undefined, 0.1);
    expect(caller.snapshot.context.pendingTexts.map((t) => t.body)).toEqual(
      Array.from({ length: 10 }, (_, i) => `text ${70 + i}`),
    );
    expect(reviveSnapshot(JSON.parse(JSON.stringify(caller.snapshot)), SNAPSHOT_SCHEMA_VERSION)).toEqual(
      caller.snapshot,
    );
  });
});
