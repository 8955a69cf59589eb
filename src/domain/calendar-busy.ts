import { DateTime } from 'luxon';

// Which events of an outside calendar block a resource's time, as Google Calendar itself decides
// busy time (its free/busy view):
// - a cancelled event blocks nothing: a deleted event, or a cancelled instance of a recurring one
//   (with singleEvents=true an instance removed from a series arrives as status `cancelled`);
// - an event marked free (`transparency: transparent`) blocks nothing, nor does a working-location
//   entry; out-of-office and focus time are busy like any opaque event;
// - an invitation the calendar's owner declined (`attendees[].self` with `responseStatus:
//   declined`) blocks nothing; accepted, tentative or unanswered ones are busy;
// - our own bookings (our marker in `extendedProperties.private`) are not mirrored back: they
//   already block their slot as appointments;
// - a timed event's instants come from its RFC 3339 date-times (their offset wins; a date-time
//   without one is read in the event's `timeZone`, else the calendar's); an all-day event runs from
//   local midnight of its start date to local midnight of its (exclusive) end date in the
//   calendar's time zone;
// - an event without readable times, or ending at or before its start, blocks nothing.

export type EventTime = { dateTime?: string | null; date?: string | null; timeZone?: string | null };

/** An event as a provider lists it (Google Calendar's fields; other providers map onto them). */
export type ProviderEvent = {
  id: string;
  status?: string | null;
  start?: EventTime | null;
  end?: EventTime | null;
  transparency?: string | null;
  eventType?: string | null;
  attendees?: Array<{ self?: boolean | null; responseStatus?: string | null }> | null;
  extendedProperties?: { private?: Record<string, string> | null } | null;
  recurringEventId?: string | null;
};

export const OUR_MARKER = 'nmc_appointment_id';

export type BusyChange =
  | { kind: 'busy'; eventId: string; start: number; end: number }
  | { kind: 'free'; eventId: string; why: FreeReason };

export type FreeReason = 'cancelled' | 'ours' | 'transparent' | 'declined' | 'not_time' | 'no_times';

function instantOf(
  time: ProviderEvent['start'],
  calendarZone: string,
): { ms: number; allDay: boolean } | null {
  if (!time) return null;
  if (typeof time.dateTime === 'string' && time.dateTime !== '') {
    const zone = time.timeZone || calendarZone;
    const parsed = DateTime.fromISO(time.dateTime, { zone });
    return parsed.isValid ? { ms: parsed.toMillis(), allDay: false } : null;
  }
  if (typeof time.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(time.date)) {
    const parsed = DateTime.fromISO(time.date, { zone: calendarZone }).startOf('day');
    return parsed.isValid ? { ms: parsed.toMillis(), allDay: true } : null;
  }
  return null;
}

export function busyChangeOf(event: ProviderEvent, calendarZone: string): BusyChange {
  const eventId = event.id;
  if (event.status === 'cancelled') return { kind: 'free', eventId, why: 'cancelled' };
  if (event.extendedProperties?.private?.[OUR_MARKER] !== undefined)
    return { kind: 'free', eventId, why: 'ours' };
  if (event.transparency === 'transparent') return { kind: 'free', eventId, why: 'transparent' };
  if (event.eventType === 'workingLocation') return { kind: 'free', eventId, why: 'not_time' };
  if (event.attendees?.some((a) => a.self === true && a.responseStatus === 'declined')) {
    return { kind: 'free', eventId, why: 'declined' };
  }
  const start = instantOf(event.start, calendarZone);
  const end = instantOf(event.end, calendarZone);
  if (start === null || end === null || end.ms <= start.ms) return { kind: 'free', eventId, why: 'no_times' };
  return { kind: 'busy', eventId, start: start.ms, end: end.ms };
}

/**
 * The changes a listing makes to the mirror, one per event id, the last listed winning (a
 * listing may name an event twice across pages when it changed in between).
 */
export function busyChanges(events: readonly ProviderEvent[], calendarZone: string): BusyChange[] {
  const byId = new Map<string, BusyChange>();
  for (const event of events) {
    if (typeof event.id !== 'string' || event.id === '') continue;
    byId.delete(event.id);
    byId.set(event.id, busyChangeOf(event, calendarZone));
  }
  return [...byId.values()];
}
