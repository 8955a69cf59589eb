import type { Slot } from './availability.ts';
import { parseInstant } from './instant.ts';
import { DAY_MS, MINUTE_MS, wallOf, zoneOf } from './wall-time.ts';

// Choosing the few slots offered to a caller by SMS ("Tue 10:00, Wed 16:00 or Thu 12:00?").
// Deterministic, so a retried turn offers the same slots. Decisions:
// - One offer per start time: the same time on two resources is one choice for the caller
//   (the lowest resource_id is kept).
// - Soonest days first, one slot per local day, taking the first n days that have slots; only when
//   there are fewer days than n does a second round take more slots from the same days.
// - The very first pick is the earliest slot (soonest help); each later pick is the slot of its day
//   whose local time of day is farthest from the times already picked (morning vs afternoon
//   variety); ties go to the earlier slot.
// - Days are local calendar days of `timeZone` (the resource's zone; UTC if omitted).
// - The result is in chronological order.

type Item = { slot: Slot; ms: number; minuteOfDay: number };

export function pickSpread(slots: readonly Slot[], n: number, timeZone = 'UTC'): Slot[] {
  if (!Number.isInteger(n) || n <= 0 || slots.length === 0) return [];
  const zone = zoneOf(timeZone);
  if (zone === null) throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}`);

  const items = slots
    .map((slot) => ({ slot, ms: parseInstant(slot.start) }))
    .sort((a, b) => a.ms - b.ms || (a.slot.resource_id < b.slot.resource_id ? -1 : 1));
  const days = new Map<number, Item[]>();
  let lastMs = Number.NaN;
  for (const { slot, ms } of items) {
    if (ms === lastMs) continue;
    lastMs = ms;
    const wall = wallOf(zone, ms);
    const day = Math.floor(wall / DAY_MS);
    const list = days.get(day) ?? [];
    list.push({ slot, ms, minuteOfDay: (wall - day * DAY_MS) / MINUTE_MS });
    days.set(day, list);
  }

  const picked: Item[] = [];
  const dayLists = [...days.values()]; // Map keeps insertion order = chronological
  while (picked.length < n && dayLists.some((d) => d.length > 0)) {
    for (const list of dayLists) {
      if (picked.length >= n) break;
      if (list.length === 0) continue;
      const index = picked.length === 0 ? 0 : farthestIndex(list, picked);
      const [item] = list.splice(index, 1);
      if (item !== undefined) picked.push(item);
    }
  }
  return picked.sort((a, b) => a.ms - b.ms).map((i) => i.slot);
}

function farthestIndex(list: readonly Item[], picked: readonly Item[]): number {
  let bestIndex = 0;
  let bestDistance = -1;
  list.forEach((item, index) => {
    let distance = Number.POSITIVE_INFINITY;
    for (const p of picked) distance = Math.min(distance, Math.abs(item.minuteOfDay - p.minuteOfDay));
    if (distance > bestDistance) {
      bestDistance = distance;
      bestIndex = index;
    }
  });
  return bestIndex;
}
