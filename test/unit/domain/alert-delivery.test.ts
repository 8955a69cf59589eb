import { describe, expect, it } from 'vitest';
import {
  type AlertLimits,
  formatClock,
  isAlertAcknowledgement,
  parseClock,
  planAlertText,
  quietHoursEnd,
  rateLimitedBy,
} from '../../../src/domain/alert-delivery.ts';
import { ALERT_REASONS } from '../../../src/domain/alert-reasons.ts';
import { alertText } from '../../../src/domain/alert-text.ts';
import { zoneOf } from '../../../src/domain/wall-time.ts';

const la = zoneOf('America/Los_Angeles');
if (la === null) throw new Error('zone data missing');
const at = (isoUtc: string) => Date.parse(isoUtc);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const NIGHT = { startMinute: 22 * 60, endMinute: 7 * 60 }; // 22:00–07:00, across midnight
const LIMITS: AlertLimits = { conversationWindowMs: 10 * 60_000, hourlyCap: 3 };

describe('quietHoursEnd', () => {
  it('is null outside quiet hours and with none set', () => {
    expect(quietHoursEnd(NIGHT, la, at('2026-12-03T20:00:00Z'))).toBeNull(); // 12:00 PST
    expect(quietHoursEnd(null, la, at('2026-12-03T08:00:00Z'))).toBeNull();
    expect(quietHoursEnd({ startMinute: 600, endMinute: 600 }, la, at('2026-12-03T18:00:00Z'))).toBeNull();
  });

  it('ends the next morning when inside before midnight, the same morning after midnight', () => {
    // 23:30 PST Dec 2 → 07:00 PST Dec 3
    expect(iso(quietHoursEnd(NIGHT, la, at('2026-12-03T07:30:00Z')))).toBe('2026-12-03T15:00:00.000Z');
    // 03:00 PST Dec 3 → 07:00 PST Dec 3
    expect(iso(quietHoursEnd(NIGHT, la, at('2026-12-03T11:00:00Z')))).toBe('2026-12-03T15:00:00.000Z');
  });

  it('treats the start as inside and the end as outside', () => {
    expect(iso(quietHoursEnd(NIGHT, la, at('2026-12-03T06:00:00Z')))).toBe('2026-12-03T15:00:00.000Z'); // 22:00
    expect(quietHoursEnd(NIGHT, la, at('2026-12-03T15:00:00Z'))).toBeNull(); // 07:00
    expect(quietHoursEnd(NIGHT, la, at('2026-12-03T14:59:00Z'))).not.toBeNull(); // 06:59
  });

  it('handles quiet hours within one day', () => {
    const lunch = { startMinute: 12 * 60, endMinute: 13 * 60 };
    expect(iso(quietHoursEnd(lunch, la, at('2026-12-03T20:30:00Z')))).toBe('2026-12-03T21:00:00.000Z');
    expect(quietHoursEnd(lunch, la, at('2026-12-03T19:59:00Z'))).toBeNull();
  });

  it('follows the local clock across the spring-forward night', () => {
    // Mar 8 2026: 02:00 PST → 03:00 PDT. 23:00 PST Mar 7 → ends 07:00 PDT = 14:00Z (not 15:00Z).
    expect(iso(quietHoursEnd(NIGHT, la, at('2026-03-08T07:00:00Z')))).toBe('2026-03-08T14:00:00.000Z');
    // 06:30 PDT is still quiet; 07:00 PDT is not.
    expect(quietHoursEnd(NIGHT, la, at('2026-03-08T13:30:00Z'))).not.toBeNull();
    expect(quietHoursEnd(NIGHT, la, at('2026-03-08T14:00:00Z'))).toBeNull();
  });

  it('follows the local clock across the fall-back night', () => {
    // Nov 1 2026: 02:00 PDT → 01:00 PST. 23:00 PDT Oct 31 → ends 07:00 PST = 15:00Z.
    expect(iso(quietHoursEnd(NIGHT, la, at('2026-11-01T06:00:00Z')))).toBe('2026-11-01T15:00:00.000Z');
  });

  it('ends at the transition when the end time does not exist that day', () => {
    const gapEnd = { startMinute: 0, endMinute: 2 * 60 + 30 }; // 00:00–02:30, and 02:30 is skipped on Mar 8
    expect(iso(quietHoursEnd(gapEnd, la, at('2026-03-08T09:30:00Z')))).toBe('2026-03-08T10:00:00.000Z');
  });
});

describe('rateLimitedBy', () => {
  const t0 = at('2026-12-03T18:00:00Z');
  it('allows one text per conversation per window', () => {
    const prior = [{ conversationId: 'c1', at: t0, urgent: false }];
    expect(rateLimitedBy(prior, { conversationId: 'c1', at: t0 + 9 * 60_000, urgent: false }, LIMITS)).toBe(
      'conversation_window',
    );
    expect(
      rateLimitedBy(prior, { conversationId: 'c1', at: t0 + 10 * 60_000, urgent: false }, LIMITS),
    ).toBeNull();
    expect(rateLimitedBy(prior, { conversationId: 'c2', at: t0 + 60_000, urgent: false }, LIMITS)).toBeNull();
  });

  it('counts a text held to later in the window too', () => {
    const prior = [{ conversationId: 'c1', at: t0 + 5 * 60_000, urgent: false }];
    expect(rateLimitedBy(prior, { conversationId: 'c1', at: t0, urgent: false }, LIMITS)).toBe(
      'conversation_window',
    );
  });

  it('lets an urgent text through after a non-urgent one, not after an urgent one', () => {
    const calm = [{ conversationId: 'c1', at: t0, urgent: false }];
    expect(rateLimitedBy(calm, { conversationId: 'c1', at: t0 + 60_000, urgent: true }, LIMITS)).toBeNull();
    const urgent = [{ conversationId: 'c1', at: t0, urgent: true }];
    expect(rateLimitedBy(urgent, { conversationId: 'c1', at: t0 + 60_000, urgent: true }, LIMITS)).toBe(
      'conversation_window',
    );
  });

  it('caps texts per person per hour, for urgent ones too', () => {
    const prior = [1, 2, 3].map((i) => ({
      conversationId: `c${i}`,
      at: t0 - i * 15 * 60_000,
      urgent: false,
    }));
    expect(rateLimitedBy(prior, { conversationId: 'c9', at: t0, urgent: true }, LIMITS)).toBe('hourly_cap');
    // An hour after the oldest of the three, one slot is free again.
    expect(
      rateLimitedBy(prior, { conversationId: 'c9', at: t0 + 15 * 60_000, urgent: false }, LIMITS),
    ).toBeNull();
  });
});

describe('planAlertText', () => {
  const base = { zone: la, quiet: NIGHT, conversationId: 'c1', prior: [], limits: LIMITS, reminder: false };
  const night = at('2026-12-03T11:00:00Z'); // 03:00 PST

  it('sends an urgent alert at once during quiet hours', () => {
    expect(planAlertText({ ...base, now: night, urgent: true })).toEqual({
      kind: 'send',
      at: night,
      held: false,
    });
  });

  it('holds a non-urgent alert until quiet hours end', () => {
    expect(planAlertText({ ...base, now: night, urgent: false })).toEqual({
      kind: 'send',
      at: at('2026-12-03T15:00:00Z'),
      held: true,
    });
  });

  it('skips a non-urgent reminder during quiet hours', () => {
    expect(planAlertText({ ...base, now: night, urgent: false, reminder: true })).toEqual({
      kind: 'skip',
      reason: 'quiet_hours',
    });
  });

  it('checks the rate limits at the instant the text would leave', () => {
    const heldAlready = [{ conversationId: 'c1', at: at('2026-12-03T15:00:00Z'), urgent: false }];
    expect(planAlertText({ ...base, prior: heldAlready, now: night, urgent: false })).toEqual({
      kind: 'skip',
      reason: 'conversation_window',
    });
  });
});

describe('alert text words', () => {
  it('names every reason, links the conversation, and has room for nothing the customer wrote', () => {
    for (const reason of ALERT_REASONS) {
      const text = alertText({
        businessName: 'Demo Plumbing',
        reason,
        link: 'https://x/app/conversations/1',
        reminder: false,
      });
      expect(text).toContain('https://x/app/conversations/1');
      expect(text.length).toBeLessThanOrEqual(320);
    }
    expect(alertText({ businessName: 'B', reason: 'emergency', link: 'L', reminder: true })).toMatch(
      /^URGENT: /,
    );
    expect(alertText({ businessName: 'B', reason: 'complaint', link: 'L', reminder: true })).toMatch(
      /^Reminder: /,
    );
  });
});

describe('clock and acknowledgement words', () => {
  it('parses and formats HH:MM', () => {
    expect(parseClock('22:00')).toBe(1320);
    expect(parseClock('07:05')).toBe(425);
    for (const bad of ['24:00', '7:00', '12:60', '', '__proto__']) expect(parseClock(bad)).toBeNull();
    expect(formatClock(425)).toBe('07:05');
  });

  it('reads OK replies and nothing longer', () => {
    for (const ok of ['OK', 'ok', ' Okay! ', 'k', 'ok.']) expect(isAlertAcknowledgement(ok)).toBe(true);
    for (const no of ['ok thanks', 'not ok', 'okk', '', 'yes'])
      expect(isAlertAcknowledgement(no)).toBe(false);
  });
});
