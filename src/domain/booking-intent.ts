import { DateTime } from 'luxon';

// What a caller's reply means inside the booking dialogue, without a language model: yes/no,
// change/cancel requests, and which of the offered options (or times) they picked. Pure.
//
// - Only a reply that starts with a yes/no word counts as one ("yes please" yes; "no, tuesday" no).
// - Bare "CANCEL" never reaches here: it is a carrier opt-out keyword, handled first. Cancelling an
//   appointment needs more words ("cancel my appointment", "cancel it").
// - A pick is an option number ("2", "#2", "the second", "last"), or a time ("10", "10am",
//   "10:30", "tue 10", "tuesday at 2pm") that matches exactly one offered slot in local time.

export type Offered = { start: string };

export type Reply =
  | { kind: 'yes' }
  | { kind: 'no' }
  | { kind: 'cancel' }
  | { kind: 'change' }
  | { kind: 'pick'; index: number }
  | { kind: 'other' };

const YES = /^(y|yes|yeah|yep|yup|ok|okay|sure|confirm|confirmed|book it|sounds good|perfect|great)\b/;
const NO = /^(n|no|nope|nah|not really)\b/;
const CANCEL = /\bcancel\b.*\b(appointment|booking|it|that|visit|job)\b|\b(appointment|booking)\b.*\bcancel/;
const CHANGE = /\b(change|reschedule|another time|different time|other time|move it)\b/;
const ORDINALS: Record<string, number> = { first: 0, '1st': 0, second: 1, '2nd': 1, third: 2, '3rd': 2 };
const WEEKDAYS: Record<string, number> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  weds: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 7,
  sunday: 7,
};

function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}:#\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function interpretReply(text: string, offered: readonly Offered[], timeZone: string): Reply {
  const t = normalise(text);
  if (t === '') return { kind: 'other' };
  if (CANCEL.test(t)) return { kind: 'cancel' };
  if (CHANGE.test(t)) return { kind: 'change' };
  const pick = pickFrom(t, offered, timeZone);
  if (pick !== null) return { kind: 'pick', index: pick };
  if (YES.test(t)) return { kind: 'yes' };
  if (NO.test(t)) return { kind: 'no' };
  return { kind: 'other' };
}

/** The index of the option the caller picked, or null. */
export function pickFrom(t: string, offered: readonly Offered[], timeZone: string): number | null {
  if (offered.length === 0) return null;
  const number = /^#?\s*(\d)\s*$/.exec(t) ?? /^(?:option|number|no)\s*#?\s*(\d)\b/.exec(t);
  if (number?.[1]) {
    const index = Number(number[1]) - 1;
    return index >= 0 && index < offered.length ? index : null;
  }
  for (const [word, index] of Object.entries(ORDINALS)) {
    if (new RegExp(`\\b${word}\\b`).test(t)) return index < offered.length ? index : null;
  }
  if (/\b(last|latest)\b/.test(t)) return offered.length - 1;
  return pickByTime(t, offered, timeZone);
}

function pickByTime(t: string, offered: readonly Offered[], timeZone: string): number | null {
  const time = /\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a|p)?\b/.exec(t);
  const weekday = Object.entries(WEEKDAYS).find(([word]) => new RegExp(`\\b${word}\\b`).test(t))?.[1];
  if (!time && weekday === undefined) return null;
  let hour: number | undefined;
  let minute = 0;
  if (time?.[1]) {
    hour = Number(time[1]);
    minute = time[2] ? Number(time[2]) : 0;
    const meridiem = time[3];
    if (meridiem?.startsWith('p') && hour < 12) hour += 12;
    if (meridiem?.startsWith('a') && hour === 12) hour = 0;
    if (hour > 23 || minute > 59) return null;
  }
  const matches = offered
    .map((slot, index) => ({ local: DateTime.fromISO(slot.start, { zone: 'utc' }).setZone(timeZone), index }))
    .filter(({ local }) => {
      if (weekday !== undefined && local.weekday !== weekday) return false;
      if (hour === undefined) return true;
      // "2" without am/pm means the business-hours reading: 2 pm, not 2 am.
      const hours = time?.[3] ? [hour] : hour < 7 ? [hour + 12, hour] : [hour];
      return hours.includes(local.hour) && local.minute === minute;
    });
  return matches.length === 1 ? (matches[0]?.index ?? null) : null;
}
