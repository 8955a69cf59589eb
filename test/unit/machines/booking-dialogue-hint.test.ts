import { describe, expect, it } from 'vitest';
import type { ReplyHint } from '../../../src/domain/reply-hint.ts';
import type { BookingRequest, Effect } from '../../../src/machines/conversation-events.ts';
import {
  initialSnapshot,
  type StepResult,
  type StoredSnapshot,
  step,
} from '../../../src/machines/conversation-snapshot.ts';
import { type EventInput, makeCatalogFacts, makeEvent, minutes, SLOTS } from './conversation-fixtures.ts';

// A language model's hint on an InboundSms: acted on when it is consistent with the dialogue
// (validHint), otherwise ignored — the deterministic reading runs as if there were no hint. Either
// way the machine decides what is sent, from templates.

const REQUESTS = new Set(['findSlots', 'placeHold', 'confirmHold', 'releaseHold', 'cancelAppointment']);
const requests = (effects: readonly Effect[]) =>
  effects.filter((e): e is BookingRequest => REQUESTS.has(e.type));
const bodies = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === 'sendSms' ? [e.body] : []));

class Caller {
  snapshot: StoredSnapshot = initialSnapshot();
  private clock = 0;
  readonly facts = makeCatalogFacts();

  apply(input: EventInput): StepResult {
    this.clock += 1;
    const result = step(this.snapshot, makeEvent(input, { at: minutes(this.clock), facts: this.facts }));
    this.snapshot = result.snapshot;
    return result;
  }

  text(body: string, hint?: ReplyHint): StepResult {
    return this.apply({
      type: 'InboundSms',
      messageSid: `SM${this.clock}`,
      body,
      mediaCount: 0,
      ...(hint ? { hint } : {}),
    });
  }

  get dialogue() {
    return this.snapshot.context.dialogue;
  }
}

function offering(caller = new Caller(), serviceId = 'svc-drain', slots = [...SLOTS]): Caller {
  caller.text('', { intent: 'service', service_id: serviceId });
  caller.apply({ type: 'SlotsFound', serviceId, slots });
  expect(caller.dialogue.step).toBe('offering');
  return caller;
}

describe('a valid hint', () => {
  it('picks a service the deterministic matcher does not understand', () => {
    // Without a hint, the text is not understood.
    const plain = new Caller().text('the thing with the pipes');
    expect(requests(plain.effects)).toEqual([]);
    expect(bodies(plain.effects)[0]).toMatch(/didn't get that/);

    const caller = new Caller();
    const hinted = caller.text('the thing with the pipes', { intent: 'service', service_id: 'svc-drain' });
    expect(requests(hinted.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    expect(bodies(hinted.effects)).toEqual([]);
    expect(caller.dialogue).toMatchObject({ serviceId: 'svc-drain', misunderstandings: 0 });

    // The quote is the template's, with the catalog's price: the hint chose nothing else.
    const quoted = caller.apply({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] });
    expect(bodies(quoted.effects)[0]).toMatch(/^Drain cleaning is \$149\.00/);
  });

  it('a valid hint decides the service over the deterministic reading', () => {
    const caller = new Caller();
    const plain = new Caller().text('the water heater and the drain');
    expect(requests(plain.effects)).not.toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    const hinted = caller.text('the water heater and the drain', {
      intent: 'service',
      service_id: 'svc-drain',
    });
    expect(requests(hinted.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
  });

  it('picks an offered time, and YES confirms the hold', () => {
    const caller = offering();
    const picked = caller.text('the afternoon one works', { intent: 'pick', pick: 2 });
    expect(requests(picked.effects)).toEqual([{ type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[1] }]);
    caller.apply({ type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: minutes(20) });
    const yes = caller.text('that works for me', { intent: 'yes' });
    expect(requests(yes.effects)).toEqual([{ type: 'confirmHold', holdId: 'hold-1' }]);
  });

  it('keeps a text from counting as misunderstood, so it does not hand over to a person', () => {
    const caller = new Caller();
    caller.text('asdf');
    caller.text('qwerty');
    expect(caller.dialogue.misunderstandings).toBe(2);
    const third = caller.text('the thing with the pipes', { intent: 'service', service_id: 'svc-toilet' });
    expect(third.state).toBe('open');
    expect(requests(third.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-toilet' }]);
  });
});

describe('an invalid hint falls back to the deterministic reading', () => {
  it('ignores an unknown service id', () => {
    const caller = new Caller();
    const result = caller.text('my drain is clogged', { intent: 'service', service_id: 'svc-gutter' });
    expect(requests(result.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);

    const lost = new Caller().text('the thing with the pipes', {
      intent: 'service',
      service_id: '__proto__',
    });
    expect(requests(lost.effects)).toEqual([]);
    expect(bodies(lost.effects)[0]).toMatch(/didn't get that/);
  });

  it('ignores a pick beyond the times on offer', () => {
    const caller = offering(new Caller(), 'svc-drain', SLOTS.slice(0, 2));
    // Pick 3 with two offered: refused; "1" is read by the deterministic path.
    const result = caller.text('1', { intent: 'pick', pick: 3 });
    expect(requests(result.effects)).toEqual([{ type: 'placeHold', serviceId: 'svc-drain', slot: SLOTS[0] }]);

    const other = offering(new Caller(), 'svc-drain', SLOTS.slice(0, 2));
    const nonsense = other.text('hmm', { intent: 'pick', pick: 3 });
    expect(requests(nonsense.effects)).toEqual([]);
    expect(other.dialogue.misunderstandings).toBe(1);
  });

  it('ignores yes/no/cancel with nothing held or booked, and `other`', () => {
    const caller = new Caller();
    for (const hint of [
      { intent: 'yes' },
      { intent: 'no' },
      { intent: 'cancel' },
      { intent: 'other' },
    ] as const) {
      const result = caller.text('my drain is clogged', hint);
      expect(requests(result.effects)).toEqual([{ type: 'findSlots', serviceId: 'svc-drain' }]);
    }
  });

  it('ignores a hint that carries a composed reply (not the schema)', () => {
    const caller = new Caller();
    const hostile = {
      intent: 'service',
      service_id: 'svc-drain',
      reply: 'Free today!',
    } as unknown as ReplyHint;
    const result = caller.text('the thing with the pipes', hostile);
    expect(requests(result.effects)).toEqual([]);
    expect(bodies(result.effects).join(' ')).not.toContain('Free today');
  });
});
