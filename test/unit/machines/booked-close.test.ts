import { describe, expect, it } from 'vitest';
import type { Effect } from '../../../src/machines/conversation-events.ts';
import { initialSnapshot, type StoredSnapshot, step } from '../../../src/machines/conversation-snapshot.ts';
import { type EventInput, makeCatalogFacts, makeEvent, minutes, SLOTS } from './conversation-fixtures.ts';

// A booked conversation has done its job: it closes by itself after the booked quiet period
// (policy `conversation.booked_close_minutes`, 2880 in the fixtures) measured from its last text,
// while a conversation still booking keeps the ordinary inactivity period (1440).

const facts = makeCatalogFacts();

type Timer = Extract<Effect, { type: 'scheduleTimer' }>;
const inactivityTimers = (effects: readonly Effect[]): Timer[] =>
  effects.filter((e): e is Timer => e.type === 'scheduleTimer' && e.timer === 'inactivity');

function run(inputs: Array<[number, EventInput]>): { snapshot: StoredSnapshot; last: readonly Effect[] } {
  let snapshot = initialSnapshot();
  let last: readonly Effect[] = [];
  for (const [at, input] of inputs) {
    const result = step(snapshot, makeEvent(input, { at: minutes(at), facts }));
    snapshot = result.snapshot;
    last = result.effects;
  }
  return { snapshot, last };
}

const text = (body: string, n: number): EventInput => ({
  type: 'InboundSms',
  messageSid: `SM${n}`,
  body,
  mediaCount: 0,
});

const BOOKING: Array<[number, EventInput]> = [
  [1, text('my drain is clogged', 1)],
  [2, { type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] }],
  [3, text('2', 2)],
  [4, { type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: minutes(20) }],
  [5, text('yes', 3)],
  [6, { type: 'Booked', appointmentId: 'appt-1', slot: SLOTS[1]! }],
];

describe('a booked conversation closes after a quiet period', () => {
  it('restarts the inactivity timer at booking with the booked quiet period', () => {
    const { snapshot, last } = run(BOOKING);
    expect(snapshot.context.dialogue.step).toBe('booked');
    expect(inactivityTimers(last)).toEqual([
      {
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutes(6 + 2880),
        token: snapshot.context.timerToken,
      },
    ]);
  });

  it('counts the quiet period from the last text after booking, and closes when it passes', () => {
    const { snapshot, last } = run([...BOOKING, [30, text('thanks!', 4)]]);
    const timer = inactivityTimers(last)[0];
    expect(timer?.fireAt).toBe(minutes(30 + 2880));
    const fired = step(
      snapshot,
      makeEvent(
        { type: 'InactivityTimeout', timer: 'inactivity', token: timer?.token ?? -1 },
        { at: minutes(30 + 2880), facts },
      ),
    );
    expect(fired.snapshot.value).toBe('closed');
    expect(fired.snapshot.context.closedReason).toBe('inactivity');
  });

  it('keeps the ordinary inactivity period while the caller is still booking', () => {
    const { last } = run(BOOKING.slice(0, 3));
    expect(inactivityTimers(last).map((t) => t.fireAt)).toEqual([minutes(3 + 1440)]);
  });
});
