import { describe, expect, it } from 'vitest';
import {
  type AppointmentEvent,
  type AppointmentFacts,
  appointmentContributions,
  appointmentIdsOf,
  CONVERSATION_STEP_BY_EVENT,
  type Contribution,
  type ConversationFacts,
  conversationContributions,
  difference,
  EMPTY_APPOINTMENT,
  EMPTY_CONVERSATION,
  histogramPercentile,
  localDay,
  mergeAppointmentEvent,
  mergeAppointmentReminder,
  mergeConversationStep,
  OVERFLOW_BUCKET,
  responseBucket,
} from '../../../src/domain/report-contributions.ts';

const LA = 'America/Los_Angeles';
const A1 = '00000000-0000-4000-8000-0000000000a1';
const A2 = '00000000-0000-4000-8000-0000000000a2';
const SERVICE = '00000000-0000-4000-8000-00000000000s'.replace('s', '5');

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** The daily totals of a set of contributions, as a plain object (zero totals dropped). */
function totals(contributions: Contribution[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [day, fields] of difference([], contributions)) {
    for (const [field, amount] of fields) out[`${day} ${field}`] = amount;
  }
  return out;
}

describe('localDay', () => {
  it('is the tenant-local date, across both DST changes (23- and 25-hour days)', () => {
    // 2026-03-08 in Los Angeles runs from 08:00Z to 07:00Z the next day (23 hours).
    expect(localDay('2026-03-08T07:59:59Z', LA)).toBe('2026-03-07');
    expect(localDay('2026-03-08T08:00:00Z', LA)).toBe('2026-03-08');
    expect(localDay('2026-03-09T06:59:59Z', LA)).toBe('2026-03-08');
    expect(localDay('2026-03-09T07:00:00Z', LA)).toBe('2026-03-09');
    // 2026-11-01 runs from 07:00Z to 08:00Z the next day (25 hours).
    expect(localDay('2026-11-01T06:59:59Z', LA)).toBe('2026-10-31');
    expect(localDay('2026-11-02T07:59:59Z', LA)).toBe('2026-11-01');
    expect(localDay('2026-11-02T08:00:00Z', LA)).toBe('2026-11-02');
  });
});

describe('conversation facts', () => {
  const events: [string, string][] = [
    ['nmc.conversation.ConversationStarted', '2026-03-08T17:00:00Z'],
    ['nmc.conversation.MissedCallRecorded', '2026-03-08T17:00:00Z'],
    ['nmc.messaging.MessageAccepted', '2026-03-08T17:00:01.200Z'],
    ['nmc.messaging.MessageAccepted', '2026-03-08T17:05:00Z'],
    ['nmc.conversation.MessageReceived', '2026-03-08T17:10:00Z'],
    ['nmc.conversation.ServiceQuoted', '2026-03-08T17:10:00Z'],
    ['nmc.conversation.TimeHeld', '2026-03-09T16:00:00Z'],
    ['nmc.conversation.HumanTookOver', '2026-03-09T16:30:00Z'],
  ];
  const fold = (list: [string, string][]) =>
    list.reduce(
      (row, [name, at]) =>
        mergeConversationStep(row, CONVERSATION_STEP_BY_EVENT[name] as keyof ConversationFacts, at),
      EMPTY_CONVERSATION,
    );

  it('settle to the same row in any order, and a repeated event changes nothing', () => {
    const expected = fold(events);
    for (const order of permutations(events.slice(0, 6))) {
      expect(fold([...order, ...events.slice(6)])).toEqual(expected);
    }
    expect(fold([...events, ...events])).toEqual(expected);
    expect(expected.texted_at).toBe('2026-03-08T17:00:01.200Z');
  });

  it('count each step once on its local day, first response on the missed call`s day', () => {
    expect(totals(conversationContributions(fold(events), LA))).toEqual({
      '2026-03-08 missed': 1,
      '2026-03-08 texted': 1,
      '2026-03-08 replied': 1,
      '2026-03-08 quoted': 1,
      '2026-03-08 bucket:1500': 1,
      '2026-03-09 held': 1,
      '2026-03-09 taken_over': 1,
      '2026-03-09 takeover_seconds': 23.5 * 3600,
    });
  });

  it('a conversation without a missed call adds no funnel steps (only opt-outs and takeovers)', () => {
    const row = fold([
      ['nmc.conversation.MessageReceived', '2026-03-08T17:10:00Z'],
      ['nmc.conversation.OptedOut', '2026-03-08T17:11:00Z'],
    ]);
    expect(totals(conversationContributions(row, LA))).toEqual({ '2026-03-08 opted_out': 1 });
  });
});

describe('appointment facts', () => {
  const payload = { conversation_id: null, service_id: SERVICE, price_cents: 14_900 };
  const events: AppointmentEvent[] = [
    {
      event_id: 'e1',
      event_name: 'nmc.scheduling.AppointmentBooked',
      occurred_at: '2026-03-06T18:00:00Z',
      payload: { ...payload, appointment_id: A1, start: '2026-03-10T17:00:00Z' },
    },
    {
      event_id: 'e2',
      event_name: 'nmc.scheduling.AppointmentRescheduled',
      occurred_at: '2026-03-07T18:00:00Z',
      payload: {
        ...payload,
        appointment_id: A2,
        previous_id: A1,
        start: '2026-03-11T17:00:00Z',
        price_cents: 15_900,
      },
    },
    {
      event_id: 'e3',
      event_name: 'nmc.scheduling.AppointmentOutcomeMarked',
      occurred_at: '2026-03-11T19:00:00Z',
      payload: { ...payload, appointment_id: A2, start: '2026-03-11T17:00:00Z', outcome: 'no_show' },
    },
    {
      event_id: 'e4',
      event_name: 'nmc.scheduling.AppointmentOutcomeMarked',
      occurred_at: '2026-03-11T20:00:00Z',
      payload: { ...payload, appointment_id: A2, start: '2026-03-11T17:00:00Z', outcome: 'completed' },
    },
  ];
  const fold = (list: AppointmentEvent[]) => {
    const rows = new Map<string, AppointmentFacts>();
    for (const event of list) {
      for (const id of appointmentIdsOf(event)) {
        rows.set(id, mergeAppointmentEvent(id, rows.get(id) ?? EMPTY_APPOINTMENT, event));
      }
    }
    return rows;
  };
  const sum = (rows: Map<string, AppointmentFacts>) =>
    totals([...rows.values()].flatMap((row) => appointmentContributions(row, LA)));

  it('a booked, moved and corrected appointment: one booking, the latest outcome, in any order', () => {
    const expected = {
      '2026-03-06 booked': 1,
      '2026-03-06 revenue_booked_cents': 14_900,
      '2026-03-11 completed': 1,
      '2026-03-11 revenue_kept_cents': 15_900,
    };
    for (const order of permutations(events)) {
      expect(sum(fold(order))).toEqual(expected);
      expect(sum(fold([...order, ...order]))).toEqual(expected);
    }
  });

  it('a cancellation counts on its day; the appointment a move replaced is not cancelled', () => {
    const cancelled: AppointmentEvent = {
      event_id: 'e5',
      event_name: 'nmc.scheduling.AppointmentCancelled',
      occurred_at: '2026-03-09T01:00:00Z',
      payload: { ...payload, appointment_id: A2, start: '2026-03-11T17:00:00Z' },
    };
    expect(sum(fold([events[0] as AppointmentEvent, events[1] as AppointmentEvent, cancelled]))).toEqual({
      '2026-03-06 booked': 1,
      '2026-03-06 revenue_booked_cents': 14_900,
      '2026-03-08 cancelled': 1,
    });
  });
});

describe('reminded', () => {
  it('counts an appointment once, on the local day of its first reminder, whatever the order', () => {
    const booked = mergeAppointmentEvent(A1, EMPTY_APPOINTMENT, {
      event_id: 'e1',
      event_name: 'nmc.scheduling.AppointmentBooked',
      occurred_at: '2026-03-06T18:00:00Z',
      payload: {
        conversation_id: null,
        service_id: SERVICE,
        price_cents: 100,
        appointment_id: A1,
        start: '2026-03-10T17:00:00Z',
      },
    });
    // 24 h before: 03-09 17:00Z = 10:00 PDT on the 9th; 2 h before: the 10th.
    const reminders = ['2026-03-09T17:00:00Z', '2026-03-10T15:00:00Z'];
    for (const order of [reminders, [...reminders].reverse(), [...reminders, ...reminders]]) {
      const row = order.reduce(mergeAppointmentReminder, booked);
      expect(row.reminded_at).toBe('2026-03-09T17:00:00Z');
      expect(totals(appointmentContributions(row, LA))).toEqual({
        '2026-03-06 booked': 1,
        '2026-03-06 revenue_booked_cents': 100,
        '2026-03-09 reminded': 1,
      });
    }
    // A reminder folded before its booking arrives settles to the same row.
    const early = mergeAppointmentReminder(EMPTY_APPOINTMENT, '2026-03-09T17:00:00Z');
    expect(
      mergeAppointmentEvent(A1, early, {
        event_id: 'e1',
        event_name: 'nmc.scheduling.AppointmentBooked',
        occurred_at: '2026-03-06T18:00:00Z',
        payload: {
          conversation_id: null,
          service_id: SERVICE,
          price_cents: 100,
          appointment_id: A1,
          start: '2026-03-10T17:00:00Z',
        },
      }),
    ).toEqual(mergeAppointmentReminder(booked, '2026-03-09T17:00:00Z'));
  });
});

describe('first-response histogram', () => {
  it('buckets by inclusive upper bound and reads percentiles from them', () => {
    expect(responseBucket(0)).toBe(250);
    expect(responseBucket(5_000)).toBe(5_000);
    expect(responseBucket(5_001)).toBe(7_500);
    expect(responseBucket(10 * 3_600_000)).toBe(OVERFLOW_BUCKET);
    const histogram = new Map([
      [1_000, 90],
      [2_000, 5],
      [7_500, 4],
      [60_000, 1],
    ]);
    expect(histogramPercentile(histogram, 0.5)).toBe(1_000);
    expect(histogramPercentile(histogram, 0.95)).toBe(2_000);
    expect(histogramPercentile(histogram, 0.99)).toBe(7_500);
    expect(histogramPercentile(histogram, 1)).toBe(60_000);
    expect(histogramPercentile(new Map(), 0.95)).toBeNull();
  });
});
