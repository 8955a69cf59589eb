import { IANAZone } from 'luxon';

// Local wall-clock time ↔ instants for an IANA zone, without allocating DateTime objects (hot path of
// availability). A "wall" is a local date-time encoded as if it were UTC epoch milliseconds
// (Date.UTC of its fields); a "day" is a local calendar date as days since 1970-01-01.
// Luxon alone resolves an ambiguous (fall-back) wall time to its later occurrence and shifts a
// nonexistent one forward by the gap; we need "first occurrence" and "skip", hence this file.

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export function zoneOf(timeZone: string): IANAZone | null {
  const zone = IANAZone.create(timeZone);
  return zone.isValid ? zone : null;
}

export function offsetMs(zone: IANAZone, ms: number): number {
  return zone.offset(ms) * MINUTE_MS;
}

export function wallOf(zone: IANAZone, ms: number): number {
  return ms + offsetMs(zone, ms);
}

export function localDayOf(zone: IANAZone, ms: number): number {
  return Math.floor(wallOf(zone, ms) / DAY_MS);
}

export type WallResolver = (wall: number) => { ms: number; exists: boolean };

// Resolves wall times of one local day (and its neighbours) to instants: the earliest instant whose
// wall time is `wall` (exists = true), or, for a wall time inside a DST gap, the transition instant,
// i.e. the first instant whose wall time is later (exists = false).
// The zone is asked for its offset only at the edges of a three-day span; when they differ, the one
// transition inside is located by bisection, and every wall time of the day is then resolved by
// arithmetic. Assumes at most one offset change within that span, true of every zone in use.
export function wallResolverForDay(zone: IANAZone, day: number): WallResolver {
  let lo = (day - 1) * DAY_MS;
  let hi = (day + 2) * DAY_MS;
  const before = offsetMs(zone, lo);
  const after = offsetMs(zone, hi);
  if (before === after) return (wall) => ({ ms: wall - before, exists: true });
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  const transition = hi;
  return (wall) => {
    const early = wall - before; // reading with the old offset: valid before the transition
    const late = wall - after; // reading with the new offset: valid from the transition on
    if (early < transition) return { ms: late >= transition ? Math.min(early, late) : early, exists: true };
    if (late >= transition) return { ms: late, exists: true };
    return { ms: transition, exists: false };
  };
}

export function wallToInstant(zone: IANAZone, wall: number): { ms: number; exists: boolean } {
  return wallResolverForDay(zone, Math.floor(wall / DAY_MS))(wall);
}
