import { z } from 'zod';

// Money is integer cents in USD, as in the JSON convention `{ "amount_cents": 14900, "currency": "USD" }`.
// Formatting is done by hand rather than Intl so the output does not depend on the ICU data of the
// host (SMS text must be byte-for-byte stable across machines).

// The largest price a business can set: $100,000. Prices are what a service call costs, and the
// column is a 4-byte integer: an unbounded amount (2147483648) reached Postgres and failed as a 500.
export const MAX_AMOUNT_CENTS = 10_000_000;

export const moneySchema = z.object({
  amount_cents: z.number().int().min(0).max(MAX_AMOUNT_CENTS),
  currency: z.literal('USD'),
});

export type Money = z.infer<typeof moneySchema>;

// "$149.00", "$1,234.50". Negative amounts (refunds, credits) render as "-$5.00".
export function formatMoney(m: Money): string {
  const cents = m.amount_cents;
  if (!Number.isSafeInteger(cents)) throw new RangeError('amount_cents must be a safe integer');
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toString();
  const rest = (abs % 100).toString().padStart(2, '0');
  return `${sign}$${dollars.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${rest}`;
}
