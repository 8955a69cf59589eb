import { describe, expect, it } from 'vitest';
import { formatDateTimeForSms, formatSlotForSms } from '../../../src/domain/local-time-words.ts';

const LA = 'America/Los_Angeles';

describe('formatSlotForSms', () => {
  it('shows the local weekday and 24-hour time', () => {
    expect(formatSlotForSms('2026-03-10T17:00:00Z', LA)).toBe('Tue 10:00');
    expect(formatSlotForSms('2026-03-10T22:30:00Z', LA)).toBe('Tue 15:30');
    expect(formatSlotForSms('2026-03-10T17:00:00Z', 'UTC')).toBe('Tue 17:00');
  });

  it('follows the local date, not the UTC date', () => {
    expect(formatSlotForSms('2026-03-11T01:00:00Z', LA)).toBe('Tue 18:00');
  });

  it('accepts instants with an offset', () => {
    expect(formatSlotForSms('2026-03-10T10:00:00-07:00', LA)).toBe('Tue 10:00');
  });

  it('is DST-correct on both sides of a change', () => {
    expect(formatSlotForSms('2026-03-07T16:00:00Z', LA)).toBe('Sat 08:00'); // PST
    expect(formatSlotForSms('2026-03-09T15:00:00Z', LA)).toBe('Mon 08:00'); // PDT
    expect(formatSlotForSms('2026-11-02T16:00:00Z', LA)).toBe('Mon 08:00'); // PST again
  });

  it('throws on invalid instants or zones instead of printing "Invalid DateTime"', () => {
    expect(() => formatSlotForSms('not a date', LA)).toThrow(RangeError);
    expect(() => formatSlotForSms('2026-03-10T10:00:00', LA)).toThrow(RangeError); // no offset
    expect(() => formatSlotForSms('2026-03-10T17:00:00Z', 'Mars/Olympus')).toThrow(RangeError);
    expect(() => formatSlotForSms('2026-03-10T17:00:00Z', '__proto__')).toThrow(RangeError);
  });
});

describe('formatDateTimeForSms', () => {
  it('adds month and day', () => {
    expect(formatDateTimeForSms('2026-03-10T17:00:00Z', LA)).toBe('Tue Mar 10, 10:00');
    expect(formatDateTimeForSms('2026-12-31T23:59:00Z', 'UTC')).toBe('Thu Dec 31, 23:59');
    expect(formatDateTimeForSms('2027-01-01T07:05:00Z', LA)).toBe('Thu Dec 31, 23:05');
  });
});
