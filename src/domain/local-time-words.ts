import { DateTime } from 'luxon';
import { parseInstant } from './instant.ts';

// How times read in an SMS: the resource's local wall clock, 24-hour, English day and month
// abbreviations ("Tue 10:00", "Tue Mar 10, 10:00"). The locale is pinned to en-US so the text does
// not change with the host's locale. Invalid instants or time zones throw: a malformed time must
// never reach a caller as "Invalid DateTime".

function toLocal(startIso: string, timeZone: string): DateTime {
  const local = DateTime.fromMillis(parseInstant(startIso), { zone: timeZone, locale: 'en-US' });
  if (!local.isValid) throw new RangeError(`unknown time zone: ${JSON.stringify(timeZone)}`);
  return local;
}

export function formatSlotForSms(startIso: string, timeZone: string): string {
  return toLocal(startIso, timeZone).toFormat('ccc HH:mm');
}

export function formatDateTimeForSms(startIso: string, timeZone: string): string {
  return toLocal(startIso, timeZone).toFormat('ccc LLL d, HH:mm');
}
