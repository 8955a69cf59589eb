import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatInstant, parseInstant } from '../../../src/domain/instant.ts';

describe('parseInstant', () => {
  it('reads UTC and offset instants', () => {
    expect(parseInstant('2026-03-08T17:00:00Z')).toBe(Date.UTC(2026, 2, 8, 17));
    expect(parseInstant('2026-03-08T09:00:00-08:00')).toBe(Date.UTC(2026, 2, 8, 17));
    expect(parseInstant('2026-03-08T17:00:00.250Z')).toBe(Date.UTC(2026, 2, 8, 17, 0, 0, 250));
    expect(parseInstant('2026-03-08T17:00:00.123456789Z')).toBe(Date.UTC(2026, 2, 8, 17, 0, 0, 123));
    expect(parseInstant('2026-03-08T22:30:00+05:30')).toBe(Date.UTC(2026, 2, 8, 17));
    expect(parseInstant('2026-03-08T17:00Z')).toBe(Date.UTC(2026, 2, 8, 17));
    expect(parseInstant('2026-03-08t17:00:00z')).toBe(Date.UTC(2026, 2, 8, 17));
  });

  it('reads years 0001–0099 as written (Date.UTC would read them as 1901–1999)', () => {
    expect(parseInstant('0001-01-01T00:00:00Z')).toBe(Date.parse('0001-01-01T00:00:00Z'));
    expect(parseInstant('0099-12-31T23:59:59Z')).toBe(Date.parse('0099-12-31T23:59:59Z'));
    expect(() => parseInstant('0001-02-29T00:00:00Z')).toThrow(RangeError);
  });

  it('property: agrees with Date.parse on valid instants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (ms, offsetMin) => {
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, -1);
          const text = `${local}${off}`;
          expect(parseInstant(text)).toBe(Date.parse(text));
          expect(parseInstant(text)).toBe(ms);
        },
      ),
    );
  });

  it.each([
    ['2026-03-08T17:00:00'],
    ['2026-03-08'],
    ['tomorrow'],
    [''],
    ['2026-13-01T00:00:00Z'],
    ['__proto__'],
  ])('refuses %j', (s) => {
    expect(() => parseInstant(s)).toThrow(RangeError);
  });
});

describe('formatInstant', () => {
  it('writes UTC with Z and no zero milliseconds', () => {
    expect(formatInstant(Date.UTC(2026, 2, 8, 17))).toBe('2026-03-08T17:00:00Z');
    expect(formatInstant(Date.UTC(2026, 2, 8, 17, 0, 0, 5))).toBe('2026-03-08T17:00:00.005Z');
  });

  it('property: round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(parseInstant(formatInstant(ms))).toBe(ms);
      }),
    );
  });
});
