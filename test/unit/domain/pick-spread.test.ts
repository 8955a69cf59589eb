import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  computeAvailability,
  pickSpread as reExported,
  type Slot,
} from '../../../src/domain/availability.ts';
import { pickSpread } from '../../../src/domain/pick-spread.ts';

const LA = 'America/Los_Angeles';
const NINE_TO_FIVE = [{ start: '08:00', end: '17:00' }];

// Mon 2026-03-09 .. Fri 2026-03-13, hourly, 60-minute jobs: 08:00..16:00 local each day.
const WEEK = computeAvailability({
  resources: [
    {
      id: 'r1',
      time_zone: LA,
      weekly_hours: { 1: NINE_TO_FIVE, 2: NINE_TO_FIVE, 3: NINE_TO_FIVE, 4: NINE_TO_FIVE, 5: NINE_TO_FIVE },
      exceptions: [],
    },
  ],
  busy: [],
  duration_minutes: 60,
  from: '2026-03-09T00:00:00Z',
  to: '2026-03-14T12:00:00Z',
  now: '2026-03-08T12:00:00Z',
  settings: {
    slot_granularity_minutes: 60,
    min_notice_minutes: 0,
    buffer_minutes: 0,
    horizon_days: 14,
    allow_same_day: true,
  },
});

const local = (slots: Slot[], zone = LA) =>
  slots.map((s) => DateTime.fromISO(s.start, { zone, locale: 'en-US' }).toFormat('ccc HH:mm'));

const slot = (start: string, resource_id = 'r1'): Slot => ({ resource_id, start, end: start });

describe('pickSpread', () => {
  it('is re-exported from availability', () => {
    expect(reExported).toBe(pickSpread);
  });

  it('takes the earliest slot, then one per following day at different times of day', () => {
    expect(local(pickSpread(WEEK, 3, LA))).toEqual(['Mon 08:00', 'Tue 16:00', 'Wed 12:00']);
  });

  it('spreads further picks between the times already taken', () => {
    expect(local(pickSpread(WEEK, 5, LA))).toEqual([
      'Mon 08:00',
      'Tue 16:00',
      'Wed 12:00',
      'Thu 10:00',
      'Fri 14:00',
    ]);
  });

  it('takes more than one slot per day only when there are fewer days than n', () => {
    const monday = WEEK.filter((s) => local([s])[0]?.startsWith('Mon'));
    const tuesday = WEEK.filter((s) => local([s])[0]?.startsWith('Tue'));
    expect(local(pickSpread([...monday, ...tuesday], 3, LA))).toEqual([
      'Mon 08:00',
      'Mon 12:00',
      'Tue 16:00',
    ]);
  });

  it('groups by the local day of the given zone, not the UTC day', () => {
    // Monday 16:00 and 17:00 in Los Angeles are 23:00 Monday and 00:00 Tuesday in UTC.
    const slots = [slot('2026-03-09T23:00:00Z'), slot('2026-03-10T00:00:00Z'), slot('2026-03-10T16:00:00Z')];
    expect(pickSpread(slots, 2, LA).map((s) => s.start)).toEqual([
      '2026-03-09T23:00:00Z',
      '2026-03-10T16:00:00Z',
    ]);
    // In UTC the first two are already on different days.
    expect(pickSpread(slots, 2).map((s) => s.start)).toEqual([
      '2026-03-09T23:00:00Z',
      '2026-03-10T00:00:00Z',
    ]);
  });

  it('offers one start time once, choosing the lowest resource id', () => {
    const slots = [slot('2026-03-09T16:00:00Z', 'b'), slot('2026-03-09T16:00:00Z', 'a')];
    expect(pickSpread(slots, 3)).toEqual([slot('2026-03-09T16:00:00Z', 'a')]);
  });

  it('handles n <= 0, empty input and bad zones', () => {
    expect(pickSpread(WEEK, 0)).toEqual([]);
    expect(pickSpread(WEEK, -1)).toEqual([]);
    expect(pickSpread(WEEK, 1.5)).toEqual([]);
    expect(pickSpread([], 3)).toEqual([]);
    expect(() => pickSpread(WEEK, 3, 'Nowhere/Land')).toThrow(RangeError);
  });

  const slotsArb = fc.array(
    fc.record({
      minutes: fc.integer({ min: 0, max: 14 * 24 * 4 }),
      resource: fc.constantFrom('a', 'b', 'c'),
    }),
    { maxLength: 60 },
  );
  const toSlots = (xs: { minutes: number; resource: string }[]) =>
    xs.map((x) =>
      slot(new Date(Date.parse('2026-03-09T00:00:00Z') + x.minutes * 15 * 60_000).toISOString(), x.resource),
    );

  it('property: returns min(n, distinct starts) input slots, chronological, unique, deterministic', () => {
    fc.assert(
      fc.property(
        slotsArb,
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom('UTC', LA, 'Asia/Kolkata'),
        (xs, n, zone) => {
          const slots = toSlots(xs);
          const picked = pickSpread(slots, n, zone);
          const distinct = new Set(slots.map((s) => s.start)).size;
          expect(picked).toHaveLength(Math.min(n, distinct));
          for (const p of picked) expect(slots).toContainEqual(p);
          const times = picked.map((p) => Date.parse(p.start));
          for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1] ?? 0);
          expect(pickSpread([...slots].reverse(), n, zone)).toEqual(picked);
        },
      ),
    );
  });

  it('property: covers min(n, days) distinct local days', () => {
    fc.assert(
      fc.property(slotsArb, fc.integer({ min: 1, max: 8 }), (xs, n) => {
        const slots = toSlots(xs);
        const days = new Set(slots.map((s) => s.start.slice(0, 10))).size;
        const pickedDays = new Set(pickSpread(slots, n).map((s) => s.start.slice(0, 10))).size;
        expect(pickedDays).toBe(Math.min(n, days));
      }),
    );
  });
});
