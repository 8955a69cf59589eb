import { describe, expect, it } from 'vitest';
import type { Slot } from '../../../src/domain/availability.ts';
import { nextOpening } from '../../../src/domain/next-opening.ts';
import { searchSlots } from '../../../src/domain/slot-search.ts';
import type { TimeAsk } from '../../../src/domain/understanding/understanding.ts';

// Which open times answer what was asked (pure). Los Angeles in winter (UTC−8); open slots every
// hour 08:00–16:00 on Thu Dec 3, Fri Dec 4 and Mon Dec 7 2026; the weekend is closed.

const TZ = 'America/Los_Angeles';
const utc = (date: string, hour: number) =>
  new Date(`${date}T${String(hour).padStart(2, '0')}:00:00-08:00`).toISOString();
const DATES = ['2026-12-03', '2026-12-04', '2026-12-07'];
const OPEN: Slot[] = DATES.flatMap((date) =>
  [8, 9, 10, 11, 12, 13, 14, 15, 16].map((hour) => ({
    resource_id: 'r',
    start: utc(date, hour),
    end: utc(date, hour + 1),
  })),
);
const ask = (patch: Partial<TimeAsk>): TimeAsk => ({
  date: null,
  until: null,
  at: null,
  after: null,
  before: null,
  partOfDay: null,
  ...patch,
});
const search = (open: Slot[], a: TimeAsk) =>
  searchSlots({ open, openDates: new Set(DATES), search: { kind: 'ask', ask: a }, timeZone: TZ, count: 3 });

describe('searchSlots', () => {
  it('an open asked time is the one answer', () => {
    expect(search(OPEN, ask({ date: '2026-12-04', at: '15:00' }))).toEqual({
      outcome: 'exact',
      slots: [OPEN.find((s) => s.start === utc('2026-12-04', 15))],
      closedDate: null,
    });
  });

  it('a taken time: the nearest that day, then the next open day, in time order', () => {
    const open = OPEN.filter((s) => ![13, 14, 15, 16].some((h) => s.start === utc('2026-12-04', h)));
    const answer = search(open, ask({ date: '2026-12-04', at: '15:00' }));
    expect(answer.outcome).toBe('nearest');
    expect(answer.slots.map((s) => s.start)).toEqual([
      utc('2026-12-04', 11),
      utc('2026-12-04', 12),
      utc('2026-12-07', 15),
    ]);
  });

  it('a closed day says which and offers the next open day', () => {
    const answer = search(OPEN, ask({ date: '2026-12-05' }));
    expect(answer.outcome).toBe('closed');
    expect(answer.closedDate).toBe('2026-12-05');
    const monday = new Set(OPEN.filter((s) => s.start >= utc('2026-12-07', 0)).map((s) => s.start));
    expect(answer.slots.length).toBe(3);
    expect(answer.slots.every((s) => monday.has(s.start))).toBe(true);
  });

  it('bounds and parts of the day filter the times', () => {
    const after = search(OPEN, ask({ date: '2026-12-07', after: '14:00' }));
    expect(after.slots.map((s) => s.start)).toEqual([
      utc('2026-12-07', 14),
      utc('2026-12-07', 15),
      utc('2026-12-07', 16),
    ]);
    const morning = search(OPEN, ask({ date: '2026-12-04', partOfDay: 'morning' }));
    expect(morning.outcome).toBe('matching');
    for (const s of morning.slots)
      expect(Date.parse(s.start)).toBeLessThan(Date.parse(utc('2026-12-04', 12)));
  });

  it('"none of these" offers times after the last one offered; an emergency the earliest', () => {
    const next = searchSlots({
      open: OPEN,
      openDates: new Set(DATES),
      search: { kind: 'after', after: utc('2026-12-04', 16) },
      timeZone: TZ,
      count: 3,
    });
    expect(next.outcome).toBe('next');
    expect(next.slots.every((s) => s.start > utc('2026-12-04', 16))).toBe(true);
    const earliest = searchSlots({
      open: OPEN,
      openDates: new Set(DATES),
      search: { kind: 'earliest' },
      timeZone: TZ,
      count: 3,
    });
    expect(earliest).toEqual({ outcome: 'exact', slots: [OPEN[0]], closedDate: null });
  });
});

describe('nextOpening', () => {
  const hours = { '1': [{ start: '08:00', end: '17:00' }], '5': [{ start: '08:00', end: '17:00' }] };
  it('is null while open, the next start otherwise (across the weekend)', () => {
    expect(nextOpening(utc('2026-12-04', 10), TZ, hours)).toBeNull();
    expect(nextOpening(utc('2026-12-04', 18), TZ, hours)).toBe('2026-12-07T16:00:00Z');
    expect(nextOpening(utc('2026-12-04', 7), TZ, hours)).toBe('2026-12-04T16:00:00Z');
    expect(nextOpening(utc('2026-12-04', 7), TZ, {})).toBeNull();
  });
});
