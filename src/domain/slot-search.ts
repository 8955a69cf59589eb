import { DateTime } from 'luxon';
import type { Slot } from './availability.ts';
import { pickSpread } from './pick-spread.ts';
import type { TimeAsk } from './understanding/understanding.ts';

// Which open times answer what a caller asked for. Pure: the runtime computes the open slots of the
// horizon (and the days the business is open at all, busy or not) and this decides which few to
// offer. Decisions that must stay true:
// - An asked exact time that is open is the answer (`exact`), nothing else.
// - An asked exact time that is not open: the nearest open times to it on that day and the next
//   open day (the closest ones of the asked day, and the closest of the next), in time order.
// - An asked day when the business does not open at all (weekend, holiday) is `closed`, and the
//   times offered are those of the next open day — never a silent jump.
// - A day, span, part of day or bound ("after 2") offers a spread of the times that fit it; when
//   none fit, the nearest times after it (`alternative`).
// - "None of these" offers the next times after the last one offered (`next`).
// - Days are local calendar dates of the business's zone.

export type SlotSearch =
  | { kind: 'spread' }
  | { kind: 'ask'; ask: TimeAsk }
  /** The times after this instant: "none of these work". */
  | { kind: 'after'; after: string }
  /** The earliest open time: an emergency. */
  | { kind: 'earliest' };

export type SlotOutcome = 'spread' | 'exact' | 'nearest' | 'closed' | 'matching' | 'alternative' | 'next';

export type SlotAnswer = {
  outcome: SlotOutcome;
  /** The times to offer, in time order (the exact one alone when `exact`). */
  slots: Slot[];
  /** The asked day the business does not open, `YYYY-MM-DD`; else null. */
  closedDate: string | null;
};

type Local = { slot: Slot; date: string; minute: number; ms: number };

function minuteOf(wall: string): number {
  const [h, m] = wall.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function local(slot: Slot, timeZone: string): Local {
  const dt = DateTime.fromISO(slot.start, { zone: timeZone });
  return { slot, date: dt.toISODate() ?? '', minute: dt.hour * 60 + dt.minute, ms: dt.toMillis() };
}

function nextDate(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days: 1 }).toISODate() ?? date;
}

const PART_OF_DAY: Record<NonNullable<TimeAsk['partOfDay']>, [number, number]> = {
  morning: [0, 12 * 60],
  afternoon: [12 * 60, 17 * 60],
  evening: [17 * 60, 24 * 60],
};

/** Whether a slot's local start fits the time-of-day part of an ask (bounds and part of day). */
function fitsTimeOfDay(item: Local, ask: TimeAsk): boolean {
  if (ask.after !== null && item.minute < minuteOf(ask.after)) return false;
  if (ask.before !== null && item.minute >= minuteOf(ask.before)) return false;
  if (ask.partOfDay !== null) {
    const [from, to] = PART_OF_DAY[ask.partOfDay];
    if (item.minute < from || item.minute >= to) return false;
  }
  return true;
}

function inDays(item: Local, first: string | null, last: string | null): boolean {
  if (first !== null && item.date < first) return false;
  if (last !== null && item.date > last) return false;
  return true;
}

function chronological(items: readonly Local[]): Slot[] {
  return [...items].sort((a, b) => a.ms - b.ms).map((i) => i.slot);
}

export function searchSlots(input: {
  /** Open slots of the horizon, in any order. */
  open: readonly Slot[];
  /** Local dates on which the business opens at all (ignoring what is booked). */
  openDates: ReadonlySet<string>;
  search: SlotSearch;
  timeZone: string;
  count: number;
}): SlotAnswer {
  const { search, timeZone, count } = input;
  const items = input.open.map((slot) => local(slot, timeZone)).sort((a, b) => a.ms - b.ms);
  const spread = (list: readonly Local[]) =>
    pickSpread(
      list.map((i) => i.slot),
      count,
      timeZone,
    );
  switch (search.kind) {
    case 'spread':
      return { outcome: 'spread', slots: spread(items), closedDate: null };
    case 'earliest':
      return { outcome: 'exact', slots: items.slice(0, 1).map((i) => i.slot), closedDate: null };
    case 'after': {
      const after = Date.parse(search.after);
      return { outcome: 'next', slots: spread(items.filter((i) => i.ms > after)), closedDate: null };
    }
    case 'ask':
      return answerAsk(items, input.openDates, search.ask, count, spread);
  }
}

function answerAsk(
  items: readonly Local[],
  openDates: ReadonlySet<string>,
  ask: TimeAsk,
  count: number,
  spread: (list: readonly Local[]) => Slot[],
): SlotAnswer {
  const first = ask.date;
  const last = ask.until ?? ask.date;
  // A day (or span) the business does not open at all: say so, offer the next open day.
  if (first !== null && !anyOpenDate(openDates, first, last ?? first)) {
    const after = items.filter((i) => i.date > (last ?? first));
    const nextDay = after[0]?.date;
    const sameDay = after.filter((i) => i.date === nextDay);
    const fitting = sameDay.filter((i) => fitsTimeOfDay(i, ask));
    return { outcome: 'closed', slots: spread(fitting.length > 0 ? fitting : sameDay), closedDate: first };
  }
  if (ask.at !== null) {
    const target = minuteOf(ask.at);
    const day = first ?? items.find((i) => i.minute === target)?.date ?? items[0]?.date ?? null;
    const exact = items.find((i) => i.date === day && i.minute === target);
    if (exact) return { outcome: 'exact', slots: [exact.slot], closedDate: null };
    if (day === null) return { outcome: 'nearest', slots: [], closedDate: null };
    // "The next day" is the next day with open times (Friday's next is Monday when weekends are closed).
    const following = items.find((i) => i.date > day)?.date ?? nextDate(day);
    // Both days are offered: the closest times of the asked day, and the closest of the next one.
    const sameDay = nearestOn(items, day, target);
    const nextDay = nearestOn(items, following, target);
    const fromSameDay = Math.max(count - Math.min(1, nextDay.length), 0);
    const near = [...sameDay.slice(0, fromSameDay), ...nextDay].slice(0, count);
    if (near.length > 0) return { outcome: 'nearest', slots: chronological(near), closedDate: null };
    return { outcome: 'alternative', slots: spread(items.filter((i) => i.date > day)), closedDate: null };
  }
  const matching = items.filter((i) => inDays(i, first, last) && fitsTimeOfDay(i, ask));
  if (matching.length > 0) {
    return { outcome: 'matching', slots: spread(matching), closedDate: null };
  }
  const later = items.filter((i) => (last === null || i.date > last) && fitsTimeOfDay(i, ask));
  if (later.length > 0) return { outcome: 'alternative', slots: spread(later), closedDate: null };
  const any = items.filter((i) => last === null || i.date > last);
  return { outcome: 'alternative', slots: spread(any.length > 0 ? any : items), closedDate: null };
}

function anyOpenDate(openDates: ReadonlySet<string>, first: string, last: string): boolean {
  for (let date = first, n = 0; date <= last && n < 62; date = nextDate(date), n++) {
    if (openDates.has(date)) return true;
  }
  return false;
}

function nearestOn(items: readonly Local[], date: string, target: number): Local[] {
  return items
    .filter((i) => i.date === date)
    .sort((a, b) => Math.abs(a.minute - target) - Math.abs(b.minute - target) || a.ms - b.ms);
}
