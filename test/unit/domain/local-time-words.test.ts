import { describe, expect, it } from 'vitest';
import {
  formatDateForSms,
  formatDateTimeForSms,
  formatSlotForSms,
} from '../../../src/domain/local-time-words.ts';

// US style by default ("Fri Dec 4, 4:00 PM", "Today", "Tomorrow" relative to now in the business's
// zone), day-first 24 h for en-GB, Spanish words for Spanish conversations.

const LA = 'America/Los_Angeles';
// Mon 2026-03-09 09:00 in Los Angeles (PDT).
const NOW = '2026-03-09T16:00:00Z';
const us = (timeZone = LA, now = NOW) => ({ timeZone, now });

describe('formatSlotForSms', () => {
  it('writes US style: weekday, month, day and a 12-hour clock', () => {
    expect(formatSlotForSms('2026-03-11T17:00:00Z', us())).toBe('Wed Mar 11, 10:00 AM');
    expect(formatSlotForSms('2026-03-12T22:30:00Z', us())).toBe('Thu Mar 12, 3:30 PM');
    expect(formatSlotForSms('2026-03-12T17:00:00Z', us('UTC'))).toBe('Thu Mar 12, 5:00 PM');
  });

  it('says today and tomorrow relative to now in the business zone', () => {
    expect(formatSlotForSms('2026-03-09T23:00:00Z', us())).toBe('Today 4:00 PM');
    expect(formatSlotForSms('2026-03-10T15:00:00Z', us())).toBe('Tomorrow 8:00 AM');
    // 01:00 UTC on the 10th is still the 9th in Los Angeles: today, not tomorrow.
    expect(formatSlotForSms('2026-03-10T01:00:00Z', us())).toBe('Today 6:00 PM');
  });

  it('accepts instants with an offset', () => {
    expect(formatSlotForSms('2026-03-11T10:00:00-07:00', us())).toBe('Wed Mar 11, 10:00 AM');
  });

  it('is DST-correct on both sides of a change', () => {
    expect(formatSlotForSms('2026-03-07T16:00:00Z', us(LA, '2026-03-01T00:00:00Z'))).toBe(
      'Sat Mar 7, 8:00 AM',
    );
    expect(formatSlotForSms('2026-03-09T15:00:00Z', us(LA, '2026-03-01T00:00:00Z'))).toBe(
      'Mon Mar 9, 8:00 AM',
    );
    expect(formatSlotForSms('2026-11-02T16:00:00Z', us(LA, '2026-10-01T00:00:00Z'))).toBe(
      'Mon Nov 2, 8:00 AM',
    );
  });

  it('writes day first and 24 h for en-GB, and Spanish words for Spanish', () => {
    const gb = { timeZone: 'Europe/London', now: NOW, locale: 'en-GB' };
    expect(formatSlotForSms('2026-03-12T16:00:00Z', gb)).toBe('Thu 12 Mar, 16:00');
    expect(formatSlotForSms('2026-03-10T09:00:00Z', gb)).toBe('Tomorrow 09:00');
    const es = { timeZone: LA, now: NOW, language: 'es' as const };
    expect(formatSlotForSms('2026-03-10T15:00:00Z', es)).toBe('mañana 8:00');
    expect(formatSlotForSms('2026-03-12T22:30:00Z', es)).toMatch(/^jue 12 mar, 15:30$/);
  });

  it('throws on invalid instants or zones instead of printing "Invalid DateTime"', () => {
    expect(() => formatSlotForSms('not a date', us())).toThrow(RangeError);
    expect(() => formatSlotForSms('2026-03-10T10:00:00', us())).toThrow(RangeError); // no offset
    expect(() => formatSlotForSms('2026-03-10T17:00:00Z', us('Mars/Olympus'))).toThrow(RangeError);
    expect(() => formatSlotForSms('2026-03-10T17:00:00Z', us('__proto__'))).toThrow(RangeError);
  });
});

describe('formatDateTimeForSms and formatDateForSms', () => {
  it('always writes the date (bookings are read again later)', () => {
    expect(formatDateTimeForSms('2026-03-09T23:00:00Z', us())).toBe('Mon Mar 9, 4:00 PM');
    expect(formatDateTimeForSms('2026-12-31T23:59:00Z', us('UTC'))).toBe('Thu Dec 31, 11:59 PM');
    expect(formatDateTimeForSms('2027-01-01T07:05:00Z', us())).toBe('Thu Dec 31, 11:05 PM');
  });

  it('writes a local date as a day', () => {
    expect(formatDateForSms('2026-12-05', us())).toBe('Sat Dec 5');
    expect(formatDateForSms('2026-12-05', { ...us(), locale: 'en-GB' })).toBe('Sat 5 Dec');
  });
});
