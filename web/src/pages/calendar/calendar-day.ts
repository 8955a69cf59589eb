import { todayIn } from '../../lib/local-days.ts';

// Which local day a timed entry of the calendar belongs to, and how a hold's expiry reads. Pure:
// the page and its unit test share it.

/** The business's local date (YYYY-MM-DD) of an instant. */
export function localDate(iso: string, timeZone: string): string {
  return todayIn(timeZone, new Date(iso));
}

/**
 * The entries shown on `day`: those that overlap it in the business's zone. A busy block can span
 * several days (an all-day event, a week away): it shows on each of them.
 */
export function entriesOnDay<T extends { start: string; end: string }>(
  items: readonly T[],
  day: string,
  timeZone: string,
): T[] {
  return items
    .filter((item) => {
      const first = localDate(item.start, timeZone);
      // [start, end): an entry ending at midnight does not reach into the next day.
      const last = localDate(new Date(Date.parse(item.end) - 1).toISOString(), timeZone);
      return first <= day && day <= last;
    })
    .sort((a, b) => a.start.localeCompare(b.start));
}

/**
 * "expires in 14 min", "expires in 40 s", "expired": how long a hold still blocks its time, in
 * whole minutes rounded down (never promising more time than is left).
 */
export function expiryWords(expiresAt: string, now: number): string {
  const seconds = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 60) return `expires in ${seconds} s`;
  return `expires in ${Math.floor(seconds / 60)} min`;
}

/** The holds still blocking time at `now` (the server's list ages while the page is open). */
export function unexpired<T extends { expires_at: string }>(holds: readonly T[], now: number): T[] {
  return holds.filter((h) => Date.parse(h.expires_at) > now);
}
