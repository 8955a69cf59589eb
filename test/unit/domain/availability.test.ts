import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  type AvailabilityInput,
  type AvailabilityResource,
  type AvailabilitySettings,
  type BusyBlock,
  computeAvailability,
  type LocalInterval,
  type Slot,
  type WeeklyHours,
} from '../../../src/domain/availability.ts';

const LA = 'America/Los_Angeles';
const NINE_TO_FIVE: LocalInterval[] = [{ start: '08:00', end: '17:00' }];
const WEEKDAYS: WeeklyHours = {
  1: NINE_TO_FIVE,
  2: NINE_TO_FIVE,
  3: NINE_TO_FIVE,
  4: NINE_TO_FIVE,
  5: NINE_TO_FIVE,
};
const EVERY_DAY: WeeklyHours = { ...WEEKDAYS, 6: NINE_TO_FIVE, 7: NINE_TO_FIVE };

const SETTINGS: AvailabilitySettings = {
  slot_granularity_minutes: 60,
  min_notice_minutes: 0,
  buffer_minutes: 0,
  horizon_days: 365,
  allow_same_day: true,
};

function resource(overrides: Partial<AvailabilityResource> = {}): AvailabilityResource {
  return { id: 'r1', time_zone: LA, weekly_hours: WEEKDAYS, exceptions: [], ...overrides };
}

type Overrides = Partial<Omit<AvailabilityInput, 'settings'>> & { settings?: Partial<AvailabilitySettings> };

function run(overrides: Overrides = {}): Slot[] {
  const { settings, ...rest } = overrides;
  return computeAvailability({
    resources: [resource()],
    busy: [],
    duration_minutes: 60,
    from: '2026-03-10T00:00:00Z',
    to: '2026-03-11T00:00:00Z',
    now: '2026-01-01T00:00:00Z',
    ...rest,
    settings: { ...SETTINGS, ...settings },
  });
}

const starts = (slots: Slot[]) => slots.map((s) => s.start);
const localStarts = (slots: Slot[], zone = LA) =>
  slots.map((s) => DateTime.fromISO(s.start, { zone }).toFormat('MM-dd HH:mm'));

describe('computeAvailability: business hours', () => {
  it('offers hourly slots of a 08:00–17:00 Tuesday in Los Angeles (PDT = UTC-7)', () => {
    const slots = run();
    expect(slots).toHaveLength(9);
    expect(slots[0]).toEqual({
      resource_id: 'r1',
      start: '2026-03-10T15:00:00Z',
      end: '2026-03-10T16:00:00Z',
    });
    expect(slots.at(-1)).toEqual({
      resource_id: 'r1',
      start: '2026-03-10T23:00:00Z',
      end: '2026-03-11T00:00:00Z',
    });
  });

  it('aligns to the granularity from the interval start and keeps slots inside the interval', () => {
    const slots = run({
      resources: [resource({ weekly_hours: { 2: [{ start: '08:10', end: '10:00' }] } })],
      duration_minutes: 45,
      settings: { slot_granularity_minutes: 15 },
    });
    expect(localStarts(slots)).toEqual([
      '03-10 08:10',
      '03-10 08:25',
      '03-10 08:40',
      '03-10 08:55',
      '03-10 09:10',
    ]);
  });

  it('uses 15-minute granularity by default', () => {
    const { slot_granularity_minutes: _, ...withoutGranularity } = SETTINGS;
    const slots = computeAvailability({
      resources: [resource({ weekly_hours: { 2: [{ start: '08:00', end: '09:00' }] } })],
      busy: [],
      duration_minutes: 30,
      from: '2026-03-10T00:00:00Z',
      to: '2026-03-11T00:00:00Z',
      now: '2026-01-01T00:00:00Z',
      settings: withoutGranularity,
    });
    expect(localStarts(slots)).toEqual(['03-10 08:00', '03-10 08:15', '03-10 08:30']);
  });

  it('splits shifts: no slot across the lunch break', () => {
    const split = [
      { start: '13:00', end: '17:00' },
      { start: '08:00', end: '12:00' },
    ];
    const slots = run({
      resources: [resource({ weekly_hours: { 2: split } })],
      duration_minutes: 90,
      settings: { slot_granularity_minutes: 30 },
    });
    expect(localStarts(slots)).toEqual([
      '03-10 08:00',
      '03-10 08:30',
      '03-10 09:00',
      '03-10 09:30',
      '03-10 10:00',
      '03-10 10:30',
      '03-10 13:00',
      '03-10 13:30',
      '03-10 14:00',
      '03-10 14:30',
      '03-10 15:00',
      '03-10 15:30',
    ]);
  });

  it('does not duplicate slots of overlapping intervals', () => {
    const slots = run({
      resources: [resource({ weekly_hours: { 2: [...NINE_TO_FIVE, { start: '08:00', end: '12:00' }] } })],
    });
    expect(slots).toHaveLength(9);
  });

  it('accepts 24:00 as the end of a day', () => {
    const slots = run({
      resources: [resource({ weekly_hours: { 2: [{ start: '22:00', end: '24:00' }] } })],
      to: '2026-03-11T12:00:00Z',
    });
    expect(localStarts(slots)).toEqual(['03-10 22:00', '03-10 23:00']);
  });

  it('closes a day with an empty exception (holiday)', () => {
    const slots = run({
      resources: [resource({ exceptions: [{ date: '2026-03-10', intervals: [] }] })],
      to: '2026-03-12T00:00:00Z',
    });
    expect(localStarts(slots).every((s) => s.startsWith('03-11'))).toBe(true);
    expect(slots).toHaveLength(9);
  });

  it('replaces weekly hours with special hours, also on a normally closed day', () => {
    const slots = run({
      resources: [
        resource({
          exceptions: [
            { date: '2026-03-10', intervals: [{ start: '10:00', end: '12:00' }] },
            { date: '2026-03-14', intervals: [{ start: '09:00', end: '11:00' }] }, // Saturday
          ],
        }),
      ],
      to: '2026-03-16T00:00:00Z',
    });
    expect(localStarts(slots).filter((s) => s.startsWith('03-10'))).toEqual(['03-10 10:00', '03-10 11:00']);
    expect(localStarts(slots).filter((s) => s.startsWith('03-14'))).toEqual(['03-14 09:00', '03-14 10:00']);
    expect(localStarts(slots).filter((s) => s.startsWith('03-15'))).toEqual([]); // Sunday stays closed
  });

  it('merges several exception entries for the same date', () => {
    const slots = run({
      resources: [
        resource({
          exceptions: [
            { date: '2026-03-10', intervals: [{ start: '08:00', end: '09:00' }] },
            { date: '2026-03-10', intervals: [{ start: '15:00', end: '16:00' }] },
          ],
        }),
      ],
    });
    expect(localStarts(slots)).toEqual(['03-10 08:00', '03-10 15:00']);
  });

  it('uses the local date, not the UTC date, for weekdays', () => {
    // Tuesday 2026-03-10 in Tokyo is 2026-03-09T23:00Z → 2026-03-10T08:00Z.
    const slots = run({
      resources: [resource({ time_zone: 'Asia/Tokyo', weekly_hours: { 2: NINE_TO_FIVE } })],
      from: '2026-03-09T00:00:00Z',
    });
    expect(slots[0]?.start).toBe('2026-03-09T23:00:00Z');
    expect(slots).toHaveLength(9);
  });
});

describe('computeAvailability: DST in America/Los_Angeles', () => {
  it('2026-03-08 (spring forward): 08:00–17:00 local is still 08:00–17:00, now at UTC-7', () => {
    const slots = run({
      resources: [resource({ weekly_hours: EVERY_DAY })],
      from: '2026-03-07T00:00:00Z',
      to: '2026-03-09T12:00:00Z',
    });
    const sat = slots.filter((_, i) => localStarts(slots)[i]?.startsWith('03-07'));
    const sun = slots.filter((_, i) => localStarts(slots)[i]?.startsWith('03-08'));
    expect(sat[0]?.start).toBe('2026-03-07T16:00:00Z'); // 08:00 PST
    expect(sat.at(-1)?.end).toBe('2026-03-08T01:00:00Z'); // 17:00 PST
    expect(sun[0]?.start).toBe('2026-03-08T15:00:00Z'); // 08:00 PDT
    expect(sun.at(-1)?.end).toBe('2026-03-09T00:00:00Z'); // 17:00 PDT
    expect(sat).toHaveLength(9);
    expect(sun).toHaveLength(9);
    expect(localStarts(sun)[0]).toBe('03-08 08:00');
  });

  it('2026-11-01 (fall back): 08:00–17:00 local, now at UTC-8', () => {
    const slots = run({
      resources: [resource({ weekly_hours: EVERY_DAY })],
      from: '2026-10-31T00:00:00Z',
      to: '2026-11-02T12:00:00Z',
    });
    const sat = slots.filter((_, i) => localStarts(slots)[i]?.startsWith('10-31'));
    const sun = slots.filter((_, i) => localStarts(slots)[i]?.startsWith('11-01'));
    expect(sat[0]?.start).toBe('2026-10-31T15:00:00Z'); // 08:00 PDT
    expect(sun[0]?.start).toBe('2026-11-01T16:00:00Z'); // 08:00 PST
    expect(sun.at(-1)?.end).toBe('2026-11-02T01:00:00Z'); // 17:00 PST
    expect(sun).toHaveLength(9);
  });

  it('skips nonexistent local times in the spring-forward gap and ends at the real 04:00', () => {
    const slots = run({
      resources: [resource({ weekly_hours: { 7: [{ start: '00:00', end: '04:00' }] } })],
      from: '2026-03-08T00:00:00Z',
      to: '2026-03-09T00:00:00Z',
      duration_minutes: 30,
      settings: { slot_granularity_minutes: 30 },
    });
    expect(starts(slots)).toEqual([
      '2026-03-08T08:00:00Z', // 00:00 PST
      '2026-03-08T08:30:00Z',
      '2026-03-08T09:00:00Z',
      '2026-03-08T09:30:00Z', // 01:30 PST; 02:00 and 02:30 do not exist
      '2026-03-08T10:00:00Z', // 03:00 PDT
      '2026-03-08T10:30:00Z', // 03:30 PDT, ends 04:00 PDT
    ]);
  });

  it('ends an interval whose end falls in the gap at the transition', () => {
    const slots = run({
      resources: [resource({ weekly_hours: { 7: [{ start: '01:00', end: '02:30' }] } })],
      from: '2026-03-08T00:00:00Z',
      to: '2026-03-09T00:00:00Z',
      duration_minutes: 30,
      settings: { slot_granularity_minutes: 30 },
    });
    expect(starts(slots)).toEqual(['2026-03-08T09:00:00Z', '2026-03-08T09:30:00Z']);
    expect(slots.at(-1)?.end).toBe('2026-03-08T10:00:00Z');
  });

  it('uses a repeated fall-back wall time once, at its first occurrence', () => {
    const slots = run({
      resources: [resource({ weekly_hours: { 7: [{ start: '00:00', end: '03:00' }] } })],
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-02T00:00:00Z',
    });
    expect(starts(slots)).toEqual([
      '2026-11-01T07:00:00Z', // 00:00 PDT
      '2026-11-01T08:00:00Z', // 01:00 PDT (01:00 PST is not offered again)
      '2026-11-01T10:00:00Z', // 02:00 PST, ends 03:00 PST
    ]);
  });
});

describe('computeAvailability: busy blocks', () => {
  const busy = (start: string, end: string, extra: Partial<BusyBlock> = {}): BusyBlock => ({
    resource_id: 'r1',
    start,
    end,
    ...extra,
  });

  it('removes slots overlapping a busy block, half-open', () => {
    // 10:00–11:00 local = 17:00–18:00Z
    const slots = run({ busy: [busy('2026-03-10T17:00:00Z', '2026-03-10T18:00:00Z')] });
    expect(localStarts(slots)).not.toContain('03-10 10:00');
    expect(localStarts(slots)).toContain('03-10 09:00'); // ends exactly when busy starts
    expect(localStarts(slots)).toContain('03-10 11:00'); // starts exactly when busy ends
    expect(slots).toHaveLength(8);
  });

  it('applies the buffer before and after each busy block', () => {
    const slots = run({
      busy: [busy('2026-03-10T17:00:00Z', '2026-03-10T18:00:00Z')],
      settings: { buffer_minutes: 15, slot_granularity_minutes: 30 },
    });
    const local = localStarts(slots);
    expect(local).toContain('03-10 08:30'); // ends 09:30, clear of 09:45
    expect(local).not.toContain('03-10 09:00'); // ends 10:00, inside the buffer
    expect(local).not.toContain('03-10 11:00'); // starts inside the buffer
    expect(local).toContain('03-10 11:30');
  });

  it('ignores a hold whose expires_at has passed, even if its expiry job has not run', () => {
    const expired = busy('2026-03-10T17:00:00Z', '2026-03-10T18:00:00Z', {
      expires_at: '2026-03-10T08:00:00Z',
    });
    const exactlyNow = busy('2026-03-10T19:00:00Z', '2026-03-10T20:00:00Z', {
      expires_at: '2026-03-10T09:00:00Z',
    });
    const live = busy('2026-03-10T21:00:00Z', '2026-03-10T22:00:00Z', { expires_at: '2026-03-10T09:00:01Z' });
    const slots = run({ busy: [expired, exactlyNow, live], now: '2026-03-10T09:00:00Z' });
    expect(localStarts(slots)).toContain('03-10 10:00');
    expect(localStarts(slots)).toContain('03-10 12:00');
    expect(localStarts(slots)).not.toContain('03-10 14:00');
  });

  it('treats expires_at null as a block that does not expire', () => {
    const slots = run({ busy: [busy('2026-03-10T17:00:00Z', '2026-03-10T18:00:00Z', { expires_at: null })] });
    expect(localStarts(slots)).not.toContain('03-10 10:00');
  });

  it('only blocks its own resource', () => {
    const slots = run({
      busy: [{ resource_id: 'other', start: '2026-03-10T15:00:00Z', end: '2026-03-11T00:00:00Z' }],
    });
    expect(slots).toHaveLength(9);
  });

  it('ignores empty or inverted busy blocks', () => {
    const slots = run({
      busy: [
        busy('2026-03-10T17:00:00Z', '2026-03-10T17:00:00Z'),
        busy('2026-03-10T18:00:00Z', '2026-03-10T17:00:00Z'),
      ],
    });
    expect(slots).toHaveLength(9);
  });

  it('handles overlapping, nested and unsorted busy blocks', () => {
    const slots = run({
      busy: [
        busy('2026-03-10T20:00:00Z', '2026-03-10T21:30:00Z'),
        busy('2026-03-10T16:00:00Z', '2026-03-10T19:00:00Z'),
        busy('2026-03-10T16:30:00Z', '2026-03-10T17:00:00Z'),
        busy('2026-03-10T18:30:00Z', '2026-03-10T20:10:00Z'),
      ],
    });
    expect(localStarts(slots)).toEqual(['03-10 08:00', '03-10 15:00', '03-10 16:00']);
  });
});

describe('computeAvailability: window, notice, horizon, same day', () => {
  it('bounds starts by [from, to)', () => {
    const slots = run({ from: '2026-03-10T17:00:00Z', to: '2026-03-10T20:00:00Z' });
    expect(starts(slots)).toEqual(['2026-03-10T17:00:00Z', '2026-03-10T18:00:00Z', '2026-03-10T19:00:00Z']);
  });

  it('respects min notice from now', () => {
    const slots = run({ now: '2026-03-10T16:10:00Z', settings: { min_notice_minutes: 60 } });
    expect(slots[0]?.start).toBe('2026-03-10T18:00:00Z'); // first start >= 17:10Z
  });

  it('never offers a slot in the past', () => {
    const slots = run({ now: '2026-03-10T20:30:00Z' });
    expect(slots[0]?.start).toBe('2026-03-10T21:00:00Z');
  });

  it('stops at the horizon', () => {
    const slots = run({
      now: '2026-03-09T18:00:00Z',
      to: '2026-03-20T00:00:00Z',
      settings: { horizon_days: 1 },
    });
    expect(slots.every((s) => Date.parse(s.start) < Date.parse('2026-03-10T18:00:00Z'))).toBe(true);
    expect(slots.at(-1)?.start).toBe('2026-03-10T17:00:00Z');
  });

  it('allow_same_day = false removes the resource-local today only', () => {
    // 2026-03-10T06:00Z is Monday 2026-03-09 23:00 in Los Angeles: local today is the 9th.
    const slots = run({
      now: '2026-03-10T06:00:00Z',
      from: '2026-03-09T00:00:00Z',
      to: '2026-03-11T00:00:00Z',
      settings: { allow_same_day: false },
    });
    expect(slots).toHaveLength(9);
    const sameDay = run({
      now: '2026-03-10T16:00:00Z',
      from: '2026-03-10T00:00:00Z',
      to: '2026-03-12T00:00:00Z',
      settings: { allow_same_day: false },
    });
    expect(localStarts(sameDay).every((s) => s.startsWith('03-11'))).toBe(true);
  });

  it('returns nothing for an empty window', () => {
    expect(run({ from: '2026-03-10T20:00:00Z', to: '2026-03-10T20:00:00Z' })).toEqual([]);
    expect(run({ from: '2026-03-11T00:00:00Z', to: '2026-03-10T00:00:00Z' })).toEqual([]);
  });
});

describe('computeAvailability: several resources', () => {
  it('sorts by start then resource id, across time zones', () => {
    const slots = run({
      resources: [
        resource({
          id: 'ny',
          time_zone: 'America/New_York',
          weekly_hours: { 2: [{ start: '11:00', end: '13:00' }] },
        }),
        resource({ id: 'la', weekly_hours: { 2: [{ start: '08:00', end: '10:00' }] } }),
      ],
    });
    expect(slots.map((s) => `${s.start} ${s.resource_id}`)).toEqual([
      '2026-03-10T15:00:00Z la',
      '2026-03-10T15:00:00Z ny',
      '2026-03-10T16:00:00Z la',
      '2026-03-10T16:00:00Z ny',
    ]);
  });
});

describe('computeAvailability: bad input throws', () => {
  it.each([
    [{ resources: [resource({ time_zone: 'Mars/Olympus' })] }],
    [{ resources: [resource({ weekly_hours: { 2: [{ start: '8:00', end: '17:00' }] } })] }],
    [{ resources: [resource({ weekly_hours: { 2: [{ start: '17:00', end: '08:00' }] } })] }],
    [{ resources: [resource({ weekly_hours: { 2: [{ start: '24:00', end: '24:00' }] } })] }],
    [{ resources: [resource({ exceptions: [{ date: '10/03/2026', intervals: [] }] })] }],
    [{ duration_minutes: 0 }],
    [{ duration_minutes: 1.5 }],
    [{ settings: { slot_granularity_minutes: 0 } }],
    [{ settings: { buffer_minutes: -5 } }],
    [{ now: 'yesterday' }],
    [{ from: '2026-03-10T00:00:00' }],
    [{ busy: [{ resource_id: 'r1', start: 'x', end: '2026-03-10T00:00:00Z' }] }],
  ] as const)('%#', (overrides) => {
    expect(() => run(overrides as Overrides)).toThrow(RangeError);
  });
});

describe('computeAvailability: performance', () => {
  it('1 resource × 14 days × 500 busy blocks in well under 50 ms', () => {
    const base = Date.parse('2026-03-02T00:00:00Z');
    const busy: BusyBlock[] = [];
    for (let i = 0; i < 500; i++) {
      const start = base + ((i * 7919) % (14 * 24 * 4)) * 15 * 60_000;
      busy.push({
        resource_id: 'r1',
        start: new Date(start).toISOString(),
        end: new Date(start + 30 * 60_000).toISOString(),
      });
    }
    const input: AvailabilityInput = {
      resources: [resource({ weekly_hours: EVERY_DAY })],
      busy,
      duration_minutes: 60,
      from: '2026-03-02T00:00:00Z',
      to: '2026-03-16T00:00:00Z',
      now: '2026-03-01T00:00:00Z',
      settings: { ...SETTINGS, slot_granularity_minutes: 15, buffer_minutes: 10, horizon_days: 30 },
    };
    computeAvailability(input); // warm-up (JIT, zone data)
    const t0 = performance.now();
    const runs = 10;
    for (let i = 0; i < runs; i++) computeAvailability(input);
    const perRun = (performance.now() - t0) / runs;
    expect(perRun).toBeLessThan(25);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const ZONES = [
  'America/Los_Angeles',
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Asia/Kolkata',
  'America/St_Johns',
  'Pacific/Chatham',
  'UTC',
];
const DAY = 86_400_000;
const MIN = 60_000;
// DST change days of the zones above, so the properties cross them often.
const DST_DAYS = [
  '2026-03-08',
  '2026-11-01',
  '2026-03-29',
  '2026-10-25',
  '2026-04-05',
  '2026-10-04',
  '2026-09-27',
];

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const interval = fc
  .tuple(fc.integer({ min: 0, max: 94 }), fc.integer({ min: 1, max: 48 }))
  .map(([s, len]): LocalInterval => ({ start: hhmm(s * 15), end: hhmm(Math.min(96, s + len) * 15) }));
const dayHours = fc.array(interval, { maxLength: 3 });
const weekly = fc.record({
  1: dayHours,
  2: dayHours,
  3: dayHours,
  4: dayHours,
  5: dayHours,
  6: dayHours,
  7: dayHours,
});

const anchor = fc.oneof(
  fc.constantFrom(...DST_DAYS).map((d) => Date.parse(`${d}T00:00:00Z`)),
  fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-20T00:00:00Z') }),
);

const scenario = fc
  .record({
    anchor,
    nowOffsetMin: fc.integer({ min: -3 * 24 * 60, max: 24 * 60 }),
    spanMin: fc.integer({ min: 60, max: 6 * 24 * 60 }),
    zones: fc.uniqueArray(fc.constantFrom(...ZONES), { minLength: 1, maxLength: 3 }),
    weeklies: fc.array(weekly, { minLength: 3, maxLength: 3 }),
    exceptionDays: fc.array(fc.tuple(fc.integer({ min: -2, max: 7 }), dayHours), { maxLength: 3 }),
    busy: fc.array(
      fc.record({
        r: fc.nat(2),
        offsetMin: fc.integer({ min: -24 * 60, max: 7 * 24 * 60 }),
        lenMin: fc.integer({ min: 0, max: 300 }),
        expiresInMin: fc.option(fc.integer({ min: -120, max: 120 })),
      }),
      { maxLength: 40 },
    ),
    duration: fc.integer({ min: 5, max: 240 }),
    granularity: fc.constantFrom(5, 10, 15, 20, 30, 60),
    notice: fc.integer({ min: 0, max: 600 }),
    buffer: fc.integer({ min: 0, max: 60 }),
    horizon: fc.integer({ min: 0, max: 10 }),
    sameDay: fc.boolean(),
  })
  .map((g): AvailabilityInput => {
    const now = Math.floor((g.anchor + g.nowOffsetMin * MIN) / MIN) * MIN + 17_000; // not minute-aligned
    const resources = g.zones.map(
      (zone, i): AvailabilityResource => ({
        id: `r${i}`,
        time_zone: zone,
        weekly_hours: g.weeklies[i] ?? {},
        exceptions: g.exceptionDays.map(([d, intervals]) => ({
          date: new Date(g.anchor + d * DAY).toISOString().slice(0, 10),
          intervals,
        })),
      }),
    );
    return {
      resources,
      busy: g.busy.map((b) => ({
        resource_id: `r${b.r}`,
        start: new Date(g.anchor + b.offsetMin * MIN).toISOString(),
        end: new Date(g.anchor + (b.offsetMin + b.lenMin) * MIN).toISOString(),
        ...(b.expiresInMin === null
          ? {}
          : { expires_at: new Date(now + b.expiresInMin * MIN).toISOString() }),
      })),
      duration_minutes: g.duration,
      from: new Date(g.anchor).toISOString(),
      to: new Date(g.anchor + g.spanMin * MIN).toISOString(),
      now: new Date(now).toISOString(),
      settings: {
        slot_granularity_minutes: g.granularity,
        min_notice_minutes: g.notice,
        buffer_minutes: g.buffer,
        horizon_days: g.horizon,
        allow_same_day: g.sameDay,
      },
    };
  });

// Wall clock of an instant as comparable minutes since the local epoch, computed with luxon.
const localWall = (ms: number, zone: string) => {
  const dt = DateTime.fromMillis(ms, { zone });
  return { date: dt.toISODate() ?? '', weekday: dt.weekday, minutes: dt.hour * 60 + dt.minute, dt };
};
const toMinutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

describe('computeAvailability properties', () => {
  it('no slot overlaps a live busy block widened by the buffer', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const now = Date.parse(input.now);
        const buffer = input.settings.buffer_minutes * MIN;
        const live = input.busy.filter((b) => b.expires_at == null || Date.parse(b.expires_at) > now);
        for (const slot of computeAvailability(input)) {
          const s = Date.parse(slot.start);
          const e = Date.parse(slot.end);
          for (const b of live) {
            if (b.resource_id !== slot.resource_id) continue;
            const bs = Date.parse(b.start);
            const be = Date.parse(b.end);
            if (be <= bs) continue;
            expect(s < be + buffer && bs - buffer < e).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every slot lies inside business hours of its local date, aligned to the granularity', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const g = input.settings.slot_granularity_minutes ?? 15;
        for (const slot of computeAvailability(input)) {
          const r = input.resources.find((x) => x.id === slot.resource_id);
          if (r === undefined) throw new Error('unknown resource');
          const start = localWall(Date.parse(slot.start), r.time_zone);
          const end = localWall(Date.parse(slot.end), r.time_zone);
          const exceptions = r.exceptions.filter((x) => x.date === start.date);
          const intervals =
            exceptions.length > 0
              ? exceptions.flatMap((x) => x.intervals)
              : (r.weekly_hours[start.weekday as 1 | 2 | 3 | 4 | 5 | 6 | 7] ?? []);
          const endDayOffset = end.date === start.date ? 0 : end.date > start.date ? 1440 : -1440;
          const inside = intervals.some((iv) => {
            const a = toMinutes(iv.start);
            const b = toMinutes(iv.end);
            return (
              start.minutes >= a &&
              (start.minutes - a) % g === 0 &&
              end.minutes + endDayOffset <= b &&
              start.minutes < b
            );
          });
          expect(inside, `${slot.start} ${r.time_zone} ${JSON.stringify(intervals)}`).toBe(true);
          expect(Date.parse(slot.end) - Date.parse(slot.start)).toBe(input.duration_minutes * MIN);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('slots are sorted, unique, inside the window, and never on local today when same day is off', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const slots = computeAvailability(input);
        const now = Date.parse(input.now);
        const lower = Math.max(Date.parse(input.from), now + input.settings.min_notice_minutes * MIN);
        const upper = Math.min(Date.parse(input.to), now + input.settings.horizon_days * DAY);
        const keys = slots.map((s) => `${s.start}|${s.resource_id}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (let i = 1; i < slots.length; i++) {
          const a = slots[i - 1] as Slot;
          const b = slots[i] as Slot;
          const order = Date.parse(a.start) - Date.parse(b.start) || (a.resource_id < b.resource_id ? -1 : 1);
          expect(order).toBeLessThan(0);
        }
        for (const s of slots) {
          expect(s.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
          const ms = Date.parse(s.start);
          expect(ms).toBeGreaterThanOrEqual(lower);
          expect(ms).toBeLessThan(upper);
          if (!input.settings.allow_same_day) {
            const zone = input.resources.find((r) => r.id === s.resource_id)?.time_zone ?? 'UTC';
            expect(localWall(ms, zone).date).not.toBe(localWall(now, zone).date);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('busy blocks only ever remove slots', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const withBusy = computeAvailability(input);
        const free = new Set(
          computeAvailability({ ...input, busy: [] }).map((s) => `${s.start}|${s.resource_id}`),
        );
        for (const s of withBusy) expect(free.has(`${s.start}|${s.resource_id}`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('the order of resources and busy blocks does not matter', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const reversed = {
          ...input,
          resources: [...input.resources].reverse(),
          busy: [...input.busy].reverse(),
        };
        expect(computeAvailability(reversed)).toEqual(computeAvailability(input));
      }),
      { numRuns: 100 },
    );
  });
});
