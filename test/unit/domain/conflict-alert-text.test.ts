import { describe, expect, it } from 'vitest';
import { alertText } from '../../../src/domain/alert-text.ts';
import { formatSpanForSms } from '../../../src/domain/local-time-words.ts';

// A calendar conflict's alert names both times on the business's clock: the booked appointment's
// and the busy block's that now overlaps it.

const LA = { timeZone: 'America/Los_Angeles', now: '2026-12-03T16:00:00Z' };

describe('time spans in texts', () => {
  it('writes the day once within a local day, and both days across midnight', () => {
    expect(formatSpanForSms('2026-12-04T17:00:00Z', '2026-12-04T18:30:00Z', LA)).toBe(
      'Fri Dec 4, 9:00 AM–10:30 AM',
    );
    expect(formatSpanForSms('2026-12-05T05:00:00Z', '2026-12-05T09:00:00Z', LA)).toBe(
      'Fri Dec 4, 9:00 PM–Sat Dec 5, 1:00 AM',
    );
  });

  it("uses the zone's offset of each instant across a clock change, and the tenant's locale", () => {
    // 2027-03-14: Los Angeles springs forward at 2:00 AM.
    expect(formatSpanForSms('2027-03-14T09:30:00Z', '2027-03-14T10:30:00Z', LA)).toBe(
      'Sun Mar 14, 1:30 AM–3:30 AM',
    );
    expect(
      formatSpanForSms('2026-12-04T09:00:00Z', '2026-12-04T10:00:00Z', {
        timeZone: 'Europe/London',
        now: LA.now,
        locale: 'en-GB',
      }),
    ).toBe('Fri 4 Dec, 09:00–10:00');
  });
});

describe('the calendar conflict alert', () => {
  const base = {
    businessName: 'Demo Plumbing',
    reason: 'calendar_conflict' as const,
    link: 'https://nmc.example/app/conversations/c1',
    reminder: false,
  };

  it('names the appointment’s time and the busy block’s', () => {
    const text = alertText({
      ...base,
      conflict: {
        appointment: { start: '2026-12-04T17:00:00Z', end: '2026-12-04T18:00:00Z' },
        busy: { start: '2026-12-04T17:30:00Z', end: '2026-12-04T19:00:00Z' },
        words: LA,
      },
    });
    expect(text).toBe(
      "Demo Plumbing: A booked appointment (Fri Dec 4, 9:00 AM–10:00 AM) now overlaps something in the owner's calendar (Fri Dec 4, 9:30 AM–11:00 AM). https://nmc.example/app/conversations/c1 Reply OK to acknowledge.",
    );
  });

  it('says "Reminder:" on a reminder, and names the reason alone when the times are unknown', () => {
    const times = {
      appointment: { start: '2026-12-04T17:00:00Z', end: '2026-12-04T18:00:00Z' },
      busy: { start: '2026-12-04T16:00:00Z', end: '2026-12-04T17:30:00Z' },
      words: LA,
    };
    expect(alertText({ ...base, reminder: true, conflict: times })).toMatch(
      /^Reminder: Demo Plumbing: A booked appointment \(Fri Dec 4, 9:00 AM–10:00 AM\) now overlaps something in the owner's calendar \(Fri Dec 4, 8:00 AM–9:30 AM\)\./,
    );
    expect(alertText({ ...base, conflict: null })).toBe(
      "Demo Plumbing: A booked appointment now overlaps something in the owner's calendar. https://nmc.example/app/conversations/c1 Reply OK to acknowledge.",
    );
    // Times given for another reason are not words of it.
    expect(alertText({ ...base, reason: 'complaint', conflict: times })).not.toContain('9:00 AM');
  });
});
