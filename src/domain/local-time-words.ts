import { DateTime } from 'luxon';
import { parseInstant } from './instant.ts';

// How times read in an SMS, on the business's local wall clock. US style by default ("Fri Dec 4,
// 4:00 PM", "Today 4:00 PM", "Tomorrow 9:00 AM"); a tenant's locale changes the order and the clock
// (en-GB: "Fri 4 Dec, 16:00"), and Spanish texts use Spanish words ("mañana 9:00"). "Today" and
// "tomorrow" are relative to `now` in the same zone. The locale is always given, so the text never
// changes with the host's locale. Invalid instants or time zones throw: a malformed time must never
// reach a caller as "Invalid DateTime".

export type TimeWords = {
  timeZone: string;
  /** The instant the text is written, RFC 3339: "today" and "tomorrow" are relative to it. */
  now: string;
  /** The tenant's locale, e.g. `en-US` (default) or `en-GB`. */
  locale?: string;
  /** The language of the conversation: Spanish texts get Spanish day and month names. */
  language?: 'en' | 'es';
};

type Style = { dayMonth: string; clock: string; today: string; tomorrow: string; luxonLocale: string };

const US: Style = {
  dayMonth: 'ccc LLL d',
  clock: 'h:mm a',
  today: 'Today',
  tomorrow: 'Tomorrow',
  luxonLocale: 'en-US',
};
const DAY_FIRST_24H: Style = { ...US, dayMonth: 'ccc d LLL', clock: 'HH:mm', luxonLocale: 'en-GB' };
const SPANISH: Style = {
  dayMonth: 'ccc d LLL',
  clock: 'H:mm',
  today: 'hoy',
  tomorrow: 'mañana',
  luxonLocale: 'es',
};

/** Locales written with a 24-hour clock and the day before the month. */
const DAY_FIRST_LOCALES = /^(en-(GB|IE|AU|NZ|ZA|IN)|fr|de|it|nl|pt|es-ES)/;

function styleOf(words: TimeWords): Style {
  if (words.language === 'es') return SPANISH;
  return DAY_FIRST_LOCALES.test(words.locale ?? 'en-US') ? DAY_FIRST_24H : US;
}

function toLocal(iso: string, timeZone: string, locale: string): DateTime {
  const local = DateTime.fromMillis(parseInstant(iso), { zone: timeZone, locale });
  if (!local.isValid) throw new RangeError(`unknown time zone: ${JSON.stringify(timeZone)}`);
  return local;
}

/** "Fri Dec 4, 4:00 PM", or "Today 4:00 PM" / "Tomorrow 9:00 AM" near `now`. */
export function formatSlotForSms(startIso: string, words: TimeWords): string {
  const style = styleOf(words);
  const local = toLocal(startIso, words.timeZone, style.luxonLocale);
  const today = toLocal(words.now, words.timeZone, style.luxonLocale).startOf('day');
  const days = Math.round(local.startOf('day').diff(today, 'days').days);
  const clock = local.toFormat(style.clock);
  if (days === 0) return `${style.today} ${clock}`;
  if (days === 1) return `${style.tomorrow} ${clock}`;
  return `${local.toFormat(style.dayMonth).replace('.', '')}, ${clock}`;
}

/** The full form, never "today": "Mon Dec 7, 8:00 AM" (bookings and cancellations are re-read later). */
export function formatDateTimeForSms(startIso: string, words: TimeWords): string {
  const style = styleOf(words);
  const local = toLocal(startIso, words.timeZone, style.luxonLocale);
  return `${local.toFormat(style.dayMonth).replace('.', '')}, ${local.toFormat(style.clock)}`;
}

/** A local calendar date `YYYY-MM-DD` as a day: "Sat Dec 5" ("sáb 5 dic"). */
export function formatDateForSms(date: string, words: TimeWords): string {
  const style = styleOf(words);
  const local = DateTime.fromISO(date, { zone: words.timeZone, locale: style.luxonLocale });
  if (!local.isValid) throw new RangeError(`invalid date: ${JSON.stringify(date)}`);
  return local.toFormat(style.dayMonth).replace('.', '');
}

/**
 * A span of time, never "today": "Fri Dec 4, 9:00 AM–10:30 AM" within one local day, both days
 * written when it crosses midnight ("Fri Dec 4, 9:00 PM–Sat Dec 5, 1:00 AM").
 */
export function formatSpanForSms(startIso: string, endIso: string, words: TimeWords): string {
  const style = styleOf(words);
  const start = toLocal(startIso, words.timeZone, style.luxonLocale);
  const end = toLocal(endIso, words.timeZone, style.luxonLocale);
  const from = formatDateTimeForSms(startIso, words);
  if (start.hasSame(end, 'day')) return `${from}–${end.toFormat(style.clock)}`;
  return `${from}–${formatDateTimeForSms(endIso, words)}`;
}
