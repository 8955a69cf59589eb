import { describe, expect, it } from 'vitest';
import {
  entriesOnDay,
  expiryWords,
  localDate,
  unexpired,
} from '../../../web/src/pages/calendar/calendar-day.ts';

// The calendar puts each hold and busy block on the business's local days it covers, and says how
// long a hold still blocks its time.

const LA = 'America/Los_Angeles';

describe('calendar days', () => {
  it("dates an instant in the business's zone", () => {
    expect(localDate('2026-12-04T06:30:00Z', LA)).toBe('2026-12-03');
    expect(localDate('2026-12-04T08:00:00Z', LA)).toBe('2026-12-04');
  });

  it('shows an entry on every local day it overlaps, and not on the day its end touches', () => {
    const morning = { start: '2026-12-04T17:00:00Z', end: '2026-12-04T18:00:00Z' }; // Fri 9–10 AM
    // An all-day event of Sat and Sun in LA: local midnight to local midnight.
    const weekend = { start: '2026-12-05T08:00:00Z', end: '2026-12-07T08:00:00Z' };
    const items = [weekend, morning];
    expect(entriesOnDay(items, '2026-12-04', LA)).toEqual([morning]);
    expect(entriesOnDay(items, '2026-12-05', LA)).toEqual([weekend]);
    expect(entriesOnDay(items, '2026-12-06', LA)).toEqual([weekend]);
    expect(entriesOnDay(items, '2026-12-07', LA)).toEqual([]);
  });

  it('sorts the entries of a day by start', () => {
    const late = { start: '2026-12-04T22:00:00Z', end: '2026-12-04T23:00:00Z' };
    const early = { start: '2026-12-04T16:00:00Z', end: '2026-12-04T17:00:00Z' };
    expect(entriesOnDay([late, early], '2026-12-04', LA)).toEqual([early, late]);
  });

  it('words a hold’s expiry in whole minutes left, seconds under a minute, and expired at or after it', () => {
    const expires = '2026-12-04T17:15:00Z';
    const at = (iso: string) => Date.parse(iso);
    expect(expiryWords(expires, at('2026-12-04T17:00:00Z'))).toBe('expires in 15 min');
    expect(expiryWords(expires, at('2026-12-04T17:10:30Z'))).toBe('expires in 4 min');
    expect(expiryWords(expires, at('2026-12-04T17:14:00Z'))).toBe('expires in 1 min');
    expect(expiryWords(expires, at('2026-12-04T17:14:20Z'))).toBe('expires in 40 s');
    expect(expiryWords(expires, at('2026-12-04T17:15:00Z'))).toBe('expired');
    expect(expiryWords(expires, at('2026-12-04T17:20:00Z'))).toBe('expired');
  });

  it('drops the holds that have expired since they were fetched', () => {
    const holds = [{ expires_at: '2026-12-04T17:15:00Z' }, { expires_at: '2026-12-04T17:30:00Z' }];
    expect(unexpired(holds, Date.parse('2026-12-04T17:15:00Z'))).toEqual([holds[1]]);
  });
});
