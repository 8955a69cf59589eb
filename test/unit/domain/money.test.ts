import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney, moneySchema } from '../../../src/domain/money.ts';

describe('moneySchema', () => {
  it('accepts integer cents >= 0 in USD', () => {
    expect(moneySchema.parse({ amount_cents: 14900, currency: 'USD' })).toEqual({
      amount_cents: 14900,
      currency: 'USD',
    });
    expect(moneySchema.safeParse({ amount_cents: 0, currency: 'USD' }).success).toBe(true);
  });

  it.each([
    [{ amount_cents: -1, currency: 'USD' }],
    [{ amount_cents: 1.5, currency: 'USD' }],
    [{ amount_cents: Number.NaN, currency: 'USD' }],
    [{ amount_cents: Number.POSITIVE_INFINITY, currency: 'USD' }],
    [{ amount_cents: 2 ** 53, currency: 'USD' }],
    [{ amount_cents: '100', currency: 'USD' }],
    [{ amount_cents: 100, currency: 'usd' }],
    [{ amount_cents: 100, currency: 'EUR' }],
    [{ amount_cents: 100 }],
    [{ currency: 'USD' }],
    [null],
    ['$1.00'],
  ])('rejects %j', (value) => {
    expect(moneySchema.safeParse(value).success).toBe(false);
  });
});

describe('formatMoney', () => {
  it.each([
    [14900, '$149.00'],
    [123450, '$1,234.50'],
    [0, '$0.00'],
    [5, '$0.05'],
    [99, '$0.99'],
    [100, '$1.00'],
    [100000, '$1,000.00'],
    [123456789, '$1,234,567.89'],
    [-500, '-$5.00'],
  ])('%i cents → %s', (cents, text) => {
    expect(formatMoney({ amount_cents: cents, currency: 'USD' })).toBe(text);
  });

  it('refuses non-integer cents', () => {
    expect(() => formatMoney({ amount_cents: 1.5, currency: 'USD' })).toThrow(RangeError);
  });

  it('property: agrees with Intl en-US currency formatting', () => {
    const intl = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000_000 }), (cents) => {
        expect(formatMoney({ amount_cents: cents, currency: 'USD' })).toBe(intl.format(cents / 100));
      }),
    );
  });

  it('property: digits round-trip to the amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (cents) => {
        const text = formatMoney({ amount_cents: cents, currency: 'USD' });
        expect(text).toMatch(/^\$\d{1,3}(,\d{3})*\.\d{2}$/);
        expect(BigInt(text.replace(/[$,.]/g, ''))).toBe(BigInt(cents));
      }),
    );
  });
});
