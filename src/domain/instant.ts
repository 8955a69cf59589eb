import { DateTime } from 'luxon';

// Instants cross the API as RFC 3339 strings and are computed with as epoch milliseconds.
// An instant must carry its offset (`Z` or `±HH:MM`): a bare local time would be read in the host's
// time zone, which is exactly the bug this guards against. Output is always UTC with `Z`, without
// milliseconds when they are zero (`2026-03-08T17:00:00Z`), per the JSON conventions.

const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

export function parseInstant(iso: string): number {
  if (typeof iso !== 'string' || !HAS_OFFSET.test(iso)) {
    throw new RangeError(`not an RFC 3339 instant with offset: ${JSON.stringify(iso)}`);
  }
  const dt = DateTime.fromISO(iso, { setZone: true });
  if (!dt.isValid) throw new RangeError(`not an RFC 3339 instant: ${JSON.stringify(iso)}`);
  return dt.toMillis();
}

export function formatInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
