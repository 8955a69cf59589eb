import { describe, expect, it } from 'vitest';
import { isQuietAt, reminderTimes } from '../../../src/domain/reminder-schedule.ts';

const LA = 'America/Los_Angeles';
const QUIET = { startMinute: 21 * 60, endMinute: 8 * 60 };
const NOW = Date.parse('2026-03-01T00:00:00Z');
const times = (start: string, offsets = [1440, 120]) =>
  reminderTimes({ start, offsetsMinutes: offsets, timeZone: LA, quiet: QUIET, nowMs: NOW }).map(
    (r) => `${r.offsetMinutes}@${r.sendAt}`,
  );

describe('reminderTimes', () => {
  it('24 h and 2 h before, in the local zone', () => {
    // Tue 2026-03-03 14:00 PST = 22:00Z.
    expect(times('2026-03-03T22:00:00Z')).toEqual([
      '1440@2026-03-02T22:00:00.000Z',
      '120@2026-03-03T20:00:00.000Z',
    ]);
  });

  it('across the spring-forward night: 24 h before 10:00 is 10:00 the day before (23 hours earlier)', () => {
    // Sun 2026-03-08 10:00 PDT = 17:00Z; Sat 10:00 PST = 18:00Z.
    expect(times('2026-03-08T17:00:00Z')).toEqual([
      '1440@2026-03-07T18:00:00.000Z',
      '120@2026-03-08T15:00:00.000Z',
    ]);
    // Sun 2026-11-01 10:00 PST = 18:00Z; Sat 10:00 PDT = 17:00Z (25 hours earlier).
    expect(times('2026-11-01T18:00:00Z')).toEqual([
      '1440@2026-10-31T17:00:00.000Z',
      '120@2026-11-01T16:00:00.000Z',
    ]);
  });

  it('never in quiet hours: a 2 h reminder for 09:00 goes at 08:00; a 24 h one for 07:30 at 08:00 the day before', () => {
    // Wed 2026-03-11 09:00 PDT = 16:00Z: 07:00 local is quiet, 08:00 local (15:00Z) is 1 h before.
    expect(times('2026-03-11T16:00:00Z', [120])).toEqual(['120@2026-03-11T15:00:00.000Z']);
    // Thu 2026-03-12 07:30 PDT = 14:30Z: 24 h before is 07:30 Wed (quiet) → 08:00 Wed (15:00Z).
    // The 2 h one (05:30) cannot move to 08:00 (after the start), so it goes at 20:59 the evening before.
    expect(times('2026-03-12T14:30:00Z')).toEqual([
      '1440@2026-03-11T15:00:00.000Z',
      '120@2026-03-12T03:59:00.000Z',
    ]);
  });

  it('no reminder already due, none at the start, and no two at one instant', () => {
    expect(times('2026-03-01T01:30:00Z')).toEqual([]);
    expect(times('2026-03-03T22:00:00Z', [120, 120, 0])).toEqual(['120@2026-03-03T20:00:00.000Z']);
  });

  it('quiet hours follow the local clock through the fall-back night', () => {
    // 2026-11-01 in Los Angeles: 01:00–01:59 happens twice. 07:59 PST is quiet, 08:00 PST is not.
    expect(isQuietAt(Date.parse('2026-11-01T15:59:00Z'), LA, QUIET)).toBe(true);
    expect(isQuietAt(Date.parse('2026-11-01T16:00:00Z'), LA, QUIET)).toBe(false);
    expect(isQuietAt(Date.parse('2026-11-02T04:59:00Z'), LA, QUIET)).toBe(false); // 20:59 PST
    expect(isQuietAt(Date.parse('2026-11-02T05:00:00Z'), LA, QUIET)).toBe(true); // 21:00 PST
  });
});
