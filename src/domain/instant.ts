// Instants cross the API as RFC 3339 strings and are computed with as epoch milliseconds.
// - An instant must carry its offset (`Z` or `±HH:MM`): a bare local time would be read in the host's
//   time zone, which is exactly the bug this guards against. Seconds may be omitted; fractions
//   beyond milliseconds are truncated; impossible dates (Feb 30, hour 24, leap second 60) throw.
// - Parsed by hand rather than with luxon: this sits on the availability hot path (hundreds of busy
//   blocks per request) and luxon's ISO parser costs ~50 µs a call.
// - Output is always UTC with `Z`, without milliseconds when they are zero (`2026-03-08T17:00:00Z`),
//   per the JSON conventions.

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

export function parseInstant(iso: string): number {
  const m = typeof iso === 'string' ? RFC3339.exec(iso) : null;
  if (m === null) throw new RangeError(`not an RFC 3339 instant with offset: ${JSON.stringify(iso)}`);
  const [, y, mo, d, h, mi, s = '0', frac = '', z, sign, oh = '0', om = '0'] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const [year, month, day, hour, minute, second] = fields;
  // Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear takes the year as written (2000 is a
  // leap year, so every day of `year` exists in it first).
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const wall = new Date(Date.UTC(2000, month, day, hour, minute, second, ms)).setUTCFullYear(year);
  const check = new Date(wall);
  const valid =
    check.getUTCFullYear() === fields[0] &&
    check.getUTCMonth() === fields[1] &&
    check.getUTCDate() === fields[2] &&
    check.getUTCHours() === fields[3] &&
    check.getUTCMinutes() === fields[4] &&
    check.getUTCSeconds() === fields[5] &&
    Number(oh) < 24 &&
    Number(om) < 60;
  if (!valid) throw new RangeError(`not a valid RFC 3339 instant: ${JSON.stringify(iso)}`);
  if (z !== undefined) return wall;
  const offset = (Number(oh) * 60 + Number(om)) * 60_000;
  return sign === '-' ? wall + offset : wall - offset;
}

export function formatInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
