// The two locales read, not the package's root, which loads all sixteen of chrono's languages.
import { casual as english } from 'chrono-node/en';
import { casual as spanish } from 'chrono-node/es';
import { DateTime } from 'luxon';
import type { Language, TimeAsk, WallTime } from './understanding.ts';

// The time a customer asks for ("tomorrow at 3pm", "friday morning", "after 2", "next week",
// "el sábado"), in the business's wall time, resolved against the `now` the caller passes. Pure:
// chrono-node reads the words; this file only frames what chrono cannot know.
//
// - chrono is given a reference Date whose local fields are the business's wall time now, and only
//   the components chrono reports (never its Date) are used, so neither the machine's zone nor
//   its clock leaks in.
// - An hour without am/pm is read in business hours: 1–6 is afternoon ("after 2" → 14:00), 7–11
//   morning, 12 noon.
// - "after"/"before"/"between" turn an hour into a bound; "morning"/"afternoon"/"evening" (and the
//   Spanish words) into a part of day; a day is set only when the text names one (a weekday, a
//   date, today/tomorrow), so "after 2" alone leaves the day to the dialogue.
// - "next week", "this week", "the weekend" are spans of days (`date`..`until`), which chrono
//   reads as a single day.

const BARE_HOUR =
  /\b(after|past|from|before|by|around|at|@|til|till|until|between|and|despues de|después de|antes de|a las|desde las|tipo|como a las)\s+(\d{1,2})(?!\s*(?:[:.]\d|am\b|pm\b|a\.m|p\.m|a\b|p\b|\d|(?:th|st|nd|rd)\b|\/))/giu;

const AFTER_WORDS =
  /(?:after|past|from|later than|no earlier than|anytime after|despues de|después de|desde)\s*(?:the\s+)?$/iu;
const BEFORE_WORDS =
  /(?:before|by|until|til|till|no later than|earlier than|antes de|hasta)\s*(?:the\s+)?$/iu;

const PART_OF_DAY: readonly [RegExp, NonNullable<TimeAsk['partOfDay']>][] = [
  [
    /\b(morning|mornings|in the am|early am|por la mañana|en la mañana|por la manana|en la manana|temprano)\b/iu,
    'morning',
  ],
  [/\b(afternoon|afternoons|after lunch|in the pm|por la tarde|en la tarde|tarde)\b/iu, 'afternoon'],
  [/\b(evening|evenings|tonight|after work|por la noche|en la noche|noche)\b/iu, 'evening'],
];

const SPANS: readonly [RegExp, 'next_week' | 'this_week' | 'weekend'][] = [
  [
    /\b(next week|following week|la pr[oó]xima semana|la semana que viene|semana pr[oó]xima|la otra semana)\b/iu,
    'next_week',
  ],
  [/\b(this week|later this week|esta semana)\b/iu, 'this_week'],
  [
    /\b(this weekend|the weekend|weekends?|el fin de semana|este fin de semana|fines de semana)\b/iu,
    'weekend',
  ],
];

const COMPACT_TIME =
  /(?<![\d$.,:/])\b(1[0-2]|[1-9])([0-5]\d)\b(?!\s*(?:sq|square|ft|feet|amps?\b|gal|gallons?|years?|yrs?|k\b|dollars|bucks|\$|%|\/|[-.]\d))/giu;

// "the 11th" without a month: the next such day from today (chrono needs the month).
const ORDINAL_DAY =
  /\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:one|option|choice|floor|time|of\b|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))/giu;

function ordinalDate(day: number, local: DateTime): string {
  if (day < 1 || day > 31) return String(day);
  let month = local.startOf('month');
  if (day < local.day) month = month.plus({ months: 1 });
  const date = month.set({ day: Math.min(day, month.daysInMonth ?? 28) });
  return date.toFormat('LLLL d');
}

const PART_ENDS: Readonly<Record<NonNullable<TimeAsk['partOfDay']>, number>> = {
  morning: 12,
  afternoon: 17,
  evening: 21,
};

const DAY_WORDS = /\b(today|tonight|tomorrow|hoy|mañana|manana|pasado mañana)\b/iu;

function wall(hour: number, minute: number): WallTime {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}` as WallTime;
}

function businessHour(hour: number, meridiemKnown: boolean): number {
  if (meridiemKnown) return hour;
  if (hour >= 1 && hour <= 6) return hour + 12;
  return hour;
}

function isoDate(year: number, month: number, day: number): string {
  return DateTime.fromObject({ year, month, day }).toISODate() ?? '';
}

export function readTimeAsk(
  clean: string,
  language: Language,
  now: string,
  timeZone: string,
): TimeAsk | null {
  const local = DateTime.fromISO(now, { zone: 'utc' }).setZone(timeZone);
  const reference = new Date(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);

  // chrono needs a meridiem or minutes to see an hour in "after 2"; the bound words stay.
  let text = clean
    .replace(/(\d)\s*ish\b/giu, '$1')
    // A greeting names no time: "good morning", "buenas tardes".
    .replace(/\b(good (morning|afternoon|evening|night)|buen(os|as) (d[ií]as|tardes|noches))\b/giu, ' ')
    // What happens regularly ("wet every morning", "every two weeks") is a description, not an ask.
    .replace(
      /\b(every|each|cada)\s+(other\s+)?(\w+\s+)?(mornings?|afternoons?|evenings?|nights?|days?|weeks?|months?|monday|tuesday|wednesday|thursday|friday|saturday|sunday|d[ií]a|semana)\b/giu,
      ' ',
    )
    .replace(/\bnoon\b/giu, '12:00pm')
    .replace(/\b(before|after|by|around|until|till|til)\s+lunch(time)?\b/giu, '$1 12:00pm')
    .replace(ORDINAL_DAY, (_m, day: string) => ordinalDate(Number(day), local))
    .replace(/\bmediod[ií]a\b/giu, '12:00pm')
    .replace(BARE_HOUR, (_m, word: string, hour: string) => `${word} ${hour}:00`);
  text = text.replace(/\b(\d{1,2})\s*(a|p)\b(?!\.?m)/giu, '$1$2m');
  // "830 works", "1030am": an hour and minutes written without the colon.
  text = text.replace(COMPACT_TIME, (_m, hour: string, minute: string) => `${hour}:${minute}`);

  // One parser, the text's language: the other one reads "a 1" of "for a 1 bedroom" as an hour.
  const parser = language === 'es' ? spanish : english;
  // Durations ("runs out after 2 minutes") are not times asked for.
  const results = parser
    .parse(text, reference, { forwardDate: true })
    .filter((r) => !/\b(minutes?|mins?|seconds?|secs?|hours?|hrs?|ago|hace)\b/iu.test(r.text))
    // "now" tells urgency ("the toilet won't go down now"), not a slot.
    .filter((r) => !/^(right )?now$|^ahora( mismo)?$/iu.test(r.text.trim()))
    // A result naming the day of the month ("friday the 11th") decides the day before a weekday.
    .sort((a, b) => Number(b.start.isCertain('day')) - Number(a.start.isCertain('day')));

  const ask: TimeAsk = { date: null, until: null, at: null, after: null, before: null, partOfDay: null };
  let found = false;

  for (const [pattern, span] of SPANS) {
    if (!pattern.test(text)) continue;
    const today = local.startOf('day');
    if (span === 'next_week') {
      const monday = today.plus({ weeks: 1 }).startOf('week');
      ask.date = monday.toISODate();
      ask.until = monday.plus({ days: 6 }).toISODate();
    } else if (span === 'this_week') {
      ask.date = today.toISODate();
      ask.until = today.endOf('week').toISODate();
    } else {
      const saturday = today.weekday === 7 ? today : today.set({ weekday: 6 });
      ask.date = saturday.toISODate();
      ask.until = saturday.weekday === 7 ? saturday.toISODate() : saturday.plus({ days: 1 }).toISODate();
    }
    found = true;
    break;
  }

  for (const r of results) {
    // The words right before the hour ("friday after 2"), which chrono may include in its match.
    const hourAt = r.text.search(/\d/u);
    const before = text.slice(0, r.index + Math.max(0, hourAt));
    for (const component of [r.start, r.end]) {
      if (component === null || component === undefined) continue;
      const namesDay = component.isCertain('day') || component.isCertain('weekday') || DAY_WORDS.test(r.text);
      if (namesDay && ask.date === null) {
        const date = isoDate(
          component.get('year') ?? local.year,
          component.get('month') ?? 1,
          component.get('day') ?? 1,
        );
        // "stopped working yesterday" tells what happened; nobody asks for a day gone by.
        if (date < (local.toISODate() ?? '')) continue;
        // "friday" said on a Friday is next week's: today is "today" or "this friday".
        const sameWeekday =
          date === local.toISODate() &&
          component.isCertain('weekday') &&
          !component.isCertain('day') &&
          !/\b(this|today|hoy|este)\s*$/iu.test(text.slice(0, r.index));
        ask.date = sameWeekday ? (local.plus({ days: 7 }).toISODate() ?? date) : date;
        found = true;
      }
      if (component.isCertain('hour')) {
        const hour = businessHour(component.get('hour') ?? 0, component.isCertain('meridiem'));
        const at = wall(hour, component.get('minute') ?? 0);
        if (component === r.end) {
          ask.before = at;
          if (ask.at !== null) {
            ask.after = ask.at;
            ask.at = null;
          }
        } else if (/between\s*$|entre\s*(las\s*)?$/iu.test(before)) {
          ask.after = at;
        } else if (AFTER_WORDS.test(before)) {
          ask.after = at;
        } else if (BEFORE_WORDS.test(before)) {
          ask.before = at;
        } else if (ask.after !== null && /\band\s*$|\by\s*(las\s*)?$/iu.test(before) && ask.before === null) {
          ask.before = at;
        } else if (ask.at === null) {
          ask.at = at;
        }
        found = true;
      }
    }
  }

  for (const [pattern, part] of PART_OF_DAY) {
    // "mañana" alone is tomorrow; only "por/en la mañana" is the morning.
    if (pattern.test(text)) {
      ask.partOfDay = part;
      found = true;
      break;
    }
  }
  if (ask.date === null && /\b(tonight|esta noche|this (morning|afternoon|evening))\b/iu.test(text)) {
    ask.date = local.toISODate();
  }
  // "in the morning" said in the evening is tomorrow morning: that part of today is over.
  if (ask.date === null && ask.partOfDay !== null && local.hour >= PART_ENDS[ask.partOfDay]) {
    ask.date = local.plus({ days: 1 }).toISODate();
  }
  return found ? ask : null;
}
