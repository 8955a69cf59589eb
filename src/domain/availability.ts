import type { IANAZone } from 'luxon';
import { formatInstant, parseInstant } from './instant.ts';
import { DAY_MS as DAY, localDayOf, MINUTE_MS as MINUTE, wallResolverForDay, zoneOf } from './wall-time.ts';

// Open timeslots per resource, from weekly hours, dated exceptions and busy blocks.
// Decisions that must stay true:
// - Business hours are local wall-clock times of each date in the resource's IANA zone, so a
//   08:00–17:00 day stays 08:00–17:00 local across DST changes. Slot starts step by the granularity
//   in wall-clock minutes from the interval start; a start that does not exist (spring-forward gap)
//   is skipped; a wall time that occurs twice (fall-back) is used once, at its first occurrence.
//   An interval's end is the first instant whose wall time reaches it (for an end inside the gap:
//   the transition). A slot must end by its interval's end.
// - An interval is [start, end) in 'HH:MM'; '24:00' may end a day. Overnight intervals are not
//   supported (split them at midnight); an interval with end ≤ start throws, like any malformed
//   input, so a configuration error never silently closes (or opens) a business.
// - A dated exception replaces that date's weekly hours; several entries for one date are merged;
//   an exception with no intervals closes the day.
// - Busy blocks are widened by buffer_minutes on both sides. A block with `expires_at` <= now (an
//   expired hold) blocks nothing, whether or not its expiry job has run. A block with end <= start
//   blocks nothing.
// - A slot is offered when now + min_notice <= start < now + horizon_days·24h and from <= start < to:
//   `[from, to)` bounds slot starts, so adjacent query windows partition the slots.
// - allow_same_day = false removes the resource's local calendar date of `now`.
// - Busy blocks are sorted and merged once, then swept with the (sorted) candidate starts:
//   O((slots + busy)·log) rather than O(slots × busy).
// - Choosing a few slots to offer is its own concept (pick-spread.ts), re-exported here for callers.

export { pickSpread } from './pick-spread.ts';

export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export type LocalInterval = { start: string; end: string };
export type WeeklyHours = { readonly [weekday in IsoWeekday]?: readonly LocalInterval[] };
export type HoursException = { date: string; intervals: readonly LocalInterval[] };

export type AvailabilityResource = {
  id: string;
  time_zone: string;
  weekly_hours: WeeklyHours;
  exceptions: readonly HoursException[];
};

export type BusyBlock = { resource_id: string; start: string; end: string; expires_at?: string | null };

export type AvailabilitySettings = {
  slot_granularity_minutes?: number;
  min_notice_minutes: number;
  buffer_minutes: number;
  horizon_days: number;
  allow_same_day: boolean;
};

export type AvailabilityInput = {
  resources: readonly AvailabilityResource[];
  busy: readonly BusyBlock[];
  duration_minutes: number;
  from: string;
  to: string;
  now: string;
  settings: AvailabilitySettings;
};

export type Slot = { resource_id: string; start: string; end: string };

export const DEFAULT_SLOT_GRANULARITY_MINUTES = 15;

const HHMM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

type Span = { start: number; end: number };

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a number >= 0`);
  return value;
}

function wallMinutes(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (m === null) throw new RangeError(`not a local time HH:MM: ${JSON.stringify(hhmm)}`);
  return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
}

function resourceZone(resource: AvailabilityResource): IANAZone {
  const zone = zoneOf(resource.time_zone);
  if (zone === null) {
    throw new RangeError(`resource ${resource.id}: unknown time zone ${JSON.stringify(resource.time_zone)}`);
  }
  return zone;
}

function dateKey(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

function isoWeekday(day: number): IsoWeekday {
  const d = new Date(day * DAY).getUTCDay();
  return (d === 0 ? 7 : d) as IsoWeekday;
}

function exceptionsByDate(resource: AvailabilityResource): Map<string, LocalInterval[]> {
  const byDate = new Map<string, LocalInterval[]>();
  for (const ex of resource.exceptions) {
    if (!ISO_DATE.test(ex.date)) {
      throw new RangeError(
        `resource ${resource.id}: exception date must be YYYY-MM-DD: ${JSON.stringify(ex.date)}`,
      );
    }
    byDate.set(ex.date, [...(byDate.get(ex.date) ?? []), ...ex.intervals]);
  }
  return byDate;
}

// Buffered, unexpired busy spans per resource, sorted and merged into disjoint spans.
function busySpans(busy: readonly BusyBlock[], now: number, bufferMs: number): Map<string, Span[]> {
  const raw = new Map<string, Span[]>();
  for (const b of busy) {
    if (b.expires_at != null && parseInstant(b.expires_at) <= now) continue;
    const start = parseInstant(b.start);
    const end = parseInstant(b.end);
    if (end <= start) continue;
    const list = raw.get(b.resource_id) ?? [];
    list.push({ start: start - bufferMs, end: end + bufferMs });
    raw.set(b.resource_id, list);
  }
  const merged = new Map<string, Span[]>();
  for (const [id, list] of raw) {
    list.sort((a, b) => a.start - b.start);
    const out: Span[] = [];
    for (const s of list) {
      const last = out.at(-1);
      if (last !== undefined && s.start <= last.end) last.end = Math.max(last.end, s.end);
      else out.push({ ...s });
    }
    merged.set(id, out);
  }
  return merged;
}

type Window = { lower: number; upper: number; today: number | null };

// Candidate slot starts of one resource inside the window, sorted ascending and unique.
function candidateStarts(
  resource: AvailabilityResource,
  zone: IANAZone,
  window: Window,
  durationMs: number,
  granularity: number,
): number[] {
  const exceptions = exceptionsByDate(resource);
  const starts = new Set<number>();
  // One day earlier than the window's first local date: a zone that falls back at midnight can show
  // the previous date after `lower`.
  const firstDay = localDayOf(zone, window.lower) - 1;
  const lastDay = localDayOf(zone, window.upper - 1);
  for (let day = firstDay; day <= lastDay; day++) {
    if (day === window.today) continue;
    const intervals = exceptions.get(dateKey(day)) ?? resource.weekly_hours[isoWeekday(day)] ?? [];
    if (intervals.length === 0) continue;
    const dayWall = day * DAY;
    const toInstant = wallResolverForDay(zone, day);
    for (const interval of intervals) {
      const startMin = wallMinutes(interval.start);
      const endMin = wallMinutes(interval.end);
      if (endMin <= startMin) {
        throw new RangeError(
          `resource ${resource.id}: interval ${interval.start}–${interval.end} must end after it starts`,
        );
      }
      const endMs = toInstant(dayWall + endMin * MINUTE).ms;
      for (let m = startMin; m < endMin; m += granularity) {
        const at = toInstant(dayWall + m * MINUTE);
        if (!at.exists) continue;
        if (at.ms + durationMs > endMs) break;
        if (at.ms >= window.lower && at.ms < window.upper) starts.add(at.ms);
      }
    }
  }
  return [...starts].sort((a, b) => a - b);
}

export function computeAvailability(input: AvailabilityInput): Slot[] {
  const { settings } = input;
  const durationMs = positiveInteger('duration_minutes', input.duration_minutes) * MINUTE;
  const granularity = positiveInteger(
    'slot_granularity_minutes',
    settings.slot_granularity_minutes ?? DEFAULT_SLOT_GRANULARITY_MINUTES,
  );
  const bufferMs = nonNegative('buffer_minutes', settings.buffer_minutes) * MINUTE;
  const noticeMs = nonNegative('min_notice_minutes', settings.min_notice_minutes) * MINUTE;
  const horizonMs = nonNegative('horizon_days', settings.horizon_days) * DAY;
  const now = parseInstant(input.now);
  const lower = Math.max(parseInstant(input.from), now + noticeMs);
  const upper = Math.min(parseInstant(input.to), now + horizonMs);
  if (lower >= upper) return [];

  const busy = busySpans(input.busy, now, bufferMs);
  const found: { ms: number; resource_id: string }[] = [];
  for (const resource of input.resources) {
    const zone = resourceZone(resource);
    const today = settings.allow_same_day ? null : localDayOf(zone, now);
    const starts = candidateStarts(resource, zone, { lower, upper, today }, durationMs, granularity);
    const spans = busy.get(resource.id) ?? [];
    let p = 0;
    for (const start of starts) {
      const end = start + durationMs;
      while (p < spans.length && (spans[p]?.end ?? 0) <= start) p++;
      const next = spans[p];
      if (next !== undefined && next.start < end) continue;
      found.push({ ms: start, resource_id: resource.id });
    }
  }
  found.sort(
    (a, b) => a.ms - b.ms || (a.resource_id < b.resource_id ? -1 : a.resource_id > b.resource_id ? 1 : 0),
  );
  return found.map((f) => ({
    resource_id: f.resource_id,
    start: formatInstant(f.ms),
    end: formatInstant(f.ms + durationMs),
  }));
}
