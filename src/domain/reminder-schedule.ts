import { DateTime } from 'luxon';

// When an appointment's reminders go out, pure. Each policy offset (minutes before the start) gives
// a target instant; a target inside the tenant's quiet hours (local wall clock, e.g. 21:00–08:00,
// start > end spans midnight) moves to the end of the quiet hours when that is still at least
// MIN_LEAD_MINUTES before the appointment, else to the last minute before they began; a time that
// has already passed is not sent at all, and two reminders that land on one instant are one.
// DST: whole days of an offset are calendar days (24 h before 10:00 is 10:00 the day before, even
// when the night between has 23 or 25 hours); wall clocks come from the zone's rules (luxon).

export type QuietHours = { startMinute: number; endMinute: number };
export type ReminderTime = { offsetMinutes: number; sendAt: string };

const MIN_LEAD_MINUTES = 30;
const MINUTE_MS = 60_000;

function minuteOfDay(ms: number, timeZone: string): number {
  const local = DateTime.fromMillis(ms, { zone: timeZone });
  return local.hour * 60 + local.minute;
}

export function isQuietAt(ms: number, timeZone: string, quiet: QuietHours): boolean {
  if (quiet.startMinute === quiet.endMinute) return false;
  const m = minuteOfDay(ms, timeZone);
  return quiet.startMinute < quiet.endMinute
    ? m >= quiet.startMinute && m < quiet.endMinute
    : m >= quiet.startMinute || m < quiet.endMinute;
}

/** The first instant at or after `ms` that is outside quiet hours (minute resolution). */
function quietEndAfter(ms: number, timeZone: string, quiet: QuietHours): number {
  let local = DateTime.fromMillis(ms, { zone: timeZone }).startOf('minute');
  const end = local.set({ hour: Math.floor(quiet.endMinute / 60), minute: quiet.endMinute % 60 });
  local = end.toMillis() > ms ? end : end.plus({ days: 1 });
  return local.toMillis();
}

/** The last minute before the quiet hours that contain `ms` began. */
function quietStartBefore(ms: number, timeZone: string, quiet: QuietHours): number {
  const local = DateTime.fromMillis(ms, { zone: timeZone });
  let start = local.set({
    hour: Math.floor(quiet.startMinute / 60),
    minute: quiet.startMinute % 60,
    second: 0,
    millisecond: 0,
  });
  if (start.toMillis() > ms) start = start.minus({ days: 1 });
  return start.toMillis() - MINUTE_MS;
}

export function reminderTimes(input: {
  start: string;
  offsetsMinutes: readonly number[];
  timeZone: string;
  quiet: QuietHours;
  nowMs: number;
}): ReminderTime[] {
  const startMs = Date.parse(input.start);
  const out: ReminderTime[] = [];
  for (const offset of [...new Set(input.offsetsMinutes)].sort((a, b) => b - a)) {
    // Whole days are calendar days (the day before at the same wall-clock time, even across a DST
    // change); the rest is elapsed time.
    let at = DateTime.fromMillis(startMs, { zone: input.timeZone })
      .minus({ days: Math.floor(offset / 1440) })
      .minus({ minutes: offset % 1440 })
      .toMillis();
    if (isQuietAt(at, input.timeZone, input.quiet)) {
      const later = quietEndAfter(at, input.timeZone, input.quiet);
      at =
        later <= startMs - MIN_LEAD_MINUTES * MINUTE_MS
          ? later
          : quietStartBefore(at, input.timeZone, input.quiet);
    }
    if (at <= input.nowMs || at >= startMs) continue;
    if (out.some((r) => Date.parse(r.sendAt) === at)) continue;
    out.push({ offsetMinutes: offset, sendAt: new Date(at).toISOString() });
  }
  return out;
}
