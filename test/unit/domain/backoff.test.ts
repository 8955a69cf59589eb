import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffCeilingMs,
  backoffDelayMs,
  DEFAULT_BACKOFF,
  MAX_ATTEMPTS,
  shouldDeadLetter,
} from '../../../src/domain/backoff.ts';

describe('backoffDelayMs', () => {
  it('follows base·2^attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffCeilingMs(a))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('uses the whole range: 0 at random 0 and the ceiling just below 1', () => {
    expect(backoffDelayMs(3, () => 0)).toBe(0);
    expect(backoffDelayMs(3, () => 0.5)).toBe(4000);
    expect(backoffDelayMs(3, () => 0.999999999)).toBe(8000);
  });

  it('clamps a misbehaving random source', () => {
    expect(backoffDelayMs(2, () => 1)).toBe(4000);
    expect(backoffDelayMs(2, () => 7)).toBe(4000);
    expect(backoffDelayMs(2, () => -3)).toBe(0);
    expect(backoffDelayMs(2, () => Number.NaN)).toBe(0);
  });

  it('stays finite for huge attempts', () => {
    expect(backoffCeilingMs(5000)).toBe(30000);
    expect(backoffDelayMs(100_000, () => 0.5)).toBeLessThanOrEqual(30000);
  });

  it('honours custom options', () => {
    expect(backoffCeilingMs(2, { baseMs: 250, capMs: 800 })).toBe(800);
    expect(backoffDelayMs(1, () => 0.999, { baseMs: 100, capMs: 10_000 })).toBe(200);
  });

  it('refuses nonsense attempts', () => {
    expect(() => backoffDelayMs(-1, () => 0)).toThrow(RangeError);
    expect(() => backoffDelayMs(1.5, () => 0)).toThrow(RangeError);
    expect(() => backoffDelayMs(Number.NaN, () => 0)).toThrow(RangeError);
    expect(() => backoffDelayMs(1, () => 0, { baseMs: -1, capMs: 10 })).toThrow(RangeError);
  });

  it('property: always a whole number within [0, min(cap, base·2^attempt)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 120_000 }),
        (attempt, r, baseMs, capMs) => {
          const d = backoffDelayMs(attempt, () => r, { baseMs, capMs });
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.min(capMs, baseMs * 2 ** attempt));
        },
      ),
    );
  });

  it('property: with the default policy never above 30 s', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.double({ noNaN: false }), (attempt, r) => {
        const d = backoffDelayMs(attempt, () => r, DEFAULT_BACKOFF);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(30_000);
      }),
    );
  });
});

describe('shouldDeadLetter', () => {
  it('dead-letters after MAX_ATTEMPTS (6) attempts', () => {
    expect(MAX_ATTEMPTS).toBe(6);
    expect(shouldDeadLetter(0)).toBe(false);
    expect(shouldDeadLetter(5)).toBe(false);
    expect(shouldDeadLetter(6)).toBe(true);
    expect(shouldDeadLetter(7)).toBe(true);
  });

  it('takes the limit from policy when given', () => {
    expect(shouldDeadLetter(3, 3)).toBe(true);
    expect(shouldDeadLetter(2, 3)).toBe(false);
  });
});
