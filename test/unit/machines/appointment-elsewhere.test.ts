import { describe, expect, it } from 'vitest';
import type { Effect } from '../../../src/machines/conversation-events.ts';
import { initialSnapshot, type StoredSnapshot, step } from '../../../src/machines/conversation-snapshot.ts';
import { type EventInput, makeCatalogFacts, makeEvent, minutes, SLOTS } from './conversation-fixtures.ts';

// An appointment the dialogue booked is cancelled or moved outside it (an operator, the customer's
// page, the calendar): the machine is told, stops believing the old appointment, and answers from
// the truth — with no text of its own. News of another appointment changes nothing.

const facts = makeCatalogFacts();

function run(from: StoredSnapshot, inputs: Array<[number, EventInput]>) {
  let snapshot = from;
  let result = { handled: false, effects: [] as readonly Effect[] };
  for (const [at, input] of inputs) {
    const next = step(snapshot, makeEvent(input, { at: minutes(at), facts }));
    snapshot = next.snapshot;
    result = next;
  }
  return { snapshot, ...result };
}

const text = (body: string, n: number): EventInput => ({
  type: 'InboundSms',
  messageSid: `SM${n}`,
  body,
  mediaCount: 0,
});

const booked = run(initialSnapshot(), [
  [1, text('my drain is clogged', 1)],
  [2, { type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] }],
  [3, text('2', 2)],
  [4, { type: 'HoldPlaced', holdId: 'hold-1', slot: SLOTS[1]!, expiresAt: minutes(20) }],
  [5, text('yes', 3)],
  [6, { type: 'Booked', appointmentId: 'appt-1', slot: SLOTS[1]! }],
]).snapshot;

const texts = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === 'sendSms' ? [e.body] : []));

describe('an appointment changed outside the dialogue', () => {
  it('is booked to begin with', () => {
    expect(booked.context.dialogue).toMatchObject({ step: 'booked', appointmentId: 'appt-1' });
    expect(texts(run(booked, [[7, text('when is my appointment?', 4)]]).effects)[0]).toMatch(/^Your Drain/);
  });

  it('cancelled: the dialogue forgets it silently, and "when is my appointment?" hears there is none', () => {
    const cancelled = run(booked, [[10, { type: 'AppointmentCancelledElsewhere', appointmentId: 'appt-1' }]]);
    expect(cancelled.handled).toBe(true);
    expect(cancelled.effects.filter((e) => e.type === 'sendSms' || e.type === 'emit')).toEqual([]);
    expect(cancelled.snapshot.context.dialogue).toMatchObject({
      step: 'idle',
      appointmentId: null,
      booked: null,
      moving: false,
    });
    const asked = run(cancelled.snapshot, [[11, text('when is my appointment?', 4)]]);
    expect(texts(asked.effects)).toEqual(['You have no appointment with us yet. What can we help with?']);
    // C (the reminder's cancel) no longer cancels anything.
    const c = run(cancelled.snapshot, [[11, text('C', 5)]]);
    expect(c.effects.some((e) => e.type === 'cancelAppointment')).toBe(false);
  });

  it('moved: the dialogue follows it to its new id and time, and tells the new time', () => {
    const moved = run(booked, [
      [
        10,
        { type: 'AppointmentMovedElsewhere', appointmentId: 'appt-2', previousId: 'appt-1', slot: SLOTS[2]! },
      ],
    ]);
    expect(moved.handled).toBe(true);
    expect(texts(moved.effects)).toEqual([]);
    expect(moved.snapshot.context.dialogue).toMatchObject({
      step: 'booked',
      appointmentId: 'appt-2',
      booked: SLOTS[2],
    });
    const asked = run(moved.snapshot, [[11, text('when is my appointment?', 4)]]);
    const before = run(booked, [[11, text('when is my appointment?', 4)]]);
    expect(texts(asked.effects)).toHaveLength(1);
    expect(texts(asked.effects)).not.toEqual(texts(before.effects));
    // Cancelling now cancels the new appointment.
    const cancel = run(moved.snapshot, [[12, text('C', 5)]]);
    expect(cancel.effects).toContainEqual({ type: 'cancelAppointment', appointmentId: 'appt-2' });
  });

  it('stops a move under way when the appointment is cancelled meanwhile', () => {
    const moving = run(booked, [
      [7, text('R', 4)],
      [8, { type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] }],
    ]).snapshot;
    expect(moving.context.dialogue).toMatchObject({ moving: true, step: 'offering' });
    const cancelled = run(moving, [[9, { type: 'AppointmentCancelledElsewhere', appointmentId: 'appt-1' }]]);
    expect(cancelled.snapshot.context.dialogue).toMatchObject({
      step: 'idle',
      moving: false,
      offered: [],
      appointmentId: null,
    });
    // A pick afterwards moves nothing.
    const pick = run(cancelled.snapshot, [[10, text('1', 5)]]);
    expect(pick.effects.some((e) => e.type === 'moveAppointment')).toBe(false);
  });

  it('is applied while a person has the conversation, so the assistant knows when it is back', () => {
    const human = run(booked, [[7, { type: 'HumanTakeoverRequested', operatorId: 'op-1' }]]).snapshot;
    const cancelled = run(human, [[8, { type: 'AppointmentCancelledElsewhere', appointmentId: 'appt-1' }]]);
    expect(cancelled.snapshot.value).toBe('human');
    expect(cancelled.snapshot.context.dialogue.appointmentId).toBeNull();
  });

  it('ignores news of another appointment, or of one it already cancelled or moved itself', () => {
    for (const input of [
      { type: 'AppointmentCancelledElsewhere', appointmentId: 'appt-other' },
      {
        type: 'AppointmentMovedElsewhere',
        appointmentId: 'appt-9',
        previousId: 'appt-other',
        slot: SLOTS[0]!,
      },
      // `__proto__` as an id is just another id.
      { type: 'AppointmentCancelledElsewhere', appointmentId: '__proto__' },
    ] as EventInput[]) {
      const result = run(booked, [[10, input]]);
      expect(result.handled).toBe(false);
      expect(result.snapshot).toEqual(booked);
    }
    const cancelledHere = run(booked, [
      [7, { type: 'AppointmentCancelled', appointmentId: 'appt-1' }],
    ]).snapshot;
    expect(
      run(cancelledHere, [[8, { type: 'AppointmentCancelledElsewhere', appointmentId: 'appt-1' }]]).handled,
    ).toBe(false);
  });
});
