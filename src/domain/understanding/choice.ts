import { DateTime } from 'luxon';
import type { TimeAsk, UnderstandContext } from './understanding.ts';

// Which of the offered times a text picks, or null. Pure.
//
// - A number standing alone is the option number whenever times are on offer ("fine. 1" is option
//   1, never 1 o'clock); only a number with am/pm, minutes or a time word before it ("at 2") is a
//   time.
// - Ordinals ("second", "2nd", "la primera", "the last one") count like numbers.
// - Otherwise the time the text names (read by chrono, see time-ask.ts) picks the one offer that has
//   that day and/or that wall time in the business's zone; two matches or none pick nothing.
// - The result is always an index of `offered`: never a choice that is not on offer.

const ORDINALS: ReadonlyMap<string, number> = new Map([
  ['first', 0],
  ['1st', 0],
  ['second', 1],
  ['2nd', 1],
  ['third', 2],
  ['3rd', 2],
  ['fourth', 3],
  ['4th', 3],
  ['primero', 0],
  ['primera', 0],
  ['segundo', 1],
  ['segunda', 1],
  ['tercero', 2],
  ['tercera', 2],
  ['tercer', 2],
]);

const NUMBER_WORDS: ReadonlyMap<string, number> = new Map([
  ['one', 1],
  ['two', 2],
  ['three', 3],
  ['uno', 1],
  ['dos', 2],
  ['tres', 3],
]);

const LAST = new Set(['last', 'latest', 'ultimo', 'ultima']);
const EARLIEST = new Set(['earliest']);
// "first thing in the morning", "give me a second": ordinals that pick nothing.
const NOT_AFTER_ORDINAL = new Set(['thing', 'time', 'floor', 'opinion']);

// A digit that is an option number: not part of a time (":30", "pm", "o'clock"), a date ("12/4",
// "4th") or an amount, and not after a word that makes it a time.
const OPTION_NUMBER =
  /(?<![\d:$.,/])\b(\d{1,2})\b(?!\s*(?:[:.]\d|am\b|pm\b|a\.m|p\.m|a\b|p\b|o'?clock|ish\b|th\b|st\b|nd\b|rd\b|%|\/|\$|dollars|bucks|min|hour|hr|day|week))/giu;
const TIME_WORD_BEFORE =
  /\b(at|@|after|before|around|by|from|til|till|until|between|and|las|a la|despues de|antes de)\s*$/iu;

function numberPick(clean: string, words: readonly string[], count: number): number | null {
  const picks = new Set<number>();
  for (const m of clean.matchAll(OPTION_NUMBER)) {
    if (TIME_WORD_BEFORE.test(clean.slice(0, m.index))) continue;
    picks.add(Number(m[1]));
  }
  if (picks.size === 0) {
    const option = words.findIndex(
      (w) => w === 'option' || w === 'number' || w === 'opcion' || w === 'numero',
    );
    const next = option >= 0 ? words[option + 1] : undefined;
    const n = next === undefined ? undefined : NUMBER_WORDS.get(next);
    if (n !== undefined) picks.add(n);
    else if (words.length === 1) {
      for (const w of words) {
        const v = NUMBER_WORDS.get(w);
        if (v !== undefined) picks.add(v);
      }
    }
  }
  if (picks.size !== 1) return null;
  const [n] = [...picks];
  if (n === undefined || n < 1 || n > count) return null;
  return n - 1;
}

function ordinalPick(words: readonly string[], count: number): number | null {
  const picks = new Set<number>();
  for (const [i, w] of words.entries()) {
    if (NOT_AFTER_ORDINAL.has(words[i + 1] ?? '') || words[i - 1] === 'a') continue;
    const o = ORDINALS.get(w);
    if (o !== undefined) picks.add(o);
    if (LAST.has(w) && count > 0) picks.add(count - 1);
    if (EARLIEST.has(w)) picks.add(0);
  }
  if (picks.size !== 1) return null;
  const [i] = [...picks];
  return i !== undefined && i < count ? i : null;
}

function timePick(ask: TimeAsk | null, context: UnderstandContext): number | null {
  if (ask === null || (ask.date === null && ask.at === null && ask.partOfDay === null)) return null;
  if (ask.after !== null || ask.before !== null || ask.until !== null) return null;
  const matches: number[] = [];
  context.offered.forEach((slot, index) => {
    const local = DateTime.fromISO(slot.start, { zone: 'utc' }).setZone(context.timeZone);
    if (ask.date !== null && local.toISODate() !== ask.date) return;
    if (ask.at !== null && local.toFormat('HH:mm') !== ask.at) return;
    if (ask.at === null && ask.partOfDay !== null) {
      const part = local.hour < 12 ? 'morning' : local.hour < 17 ? 'afternoon' : 'evening';
      if (part !== ask.partOfDay) return;
    }
    matches.push(index);
  });
  return matches.length === 1 ? (matches[0] ?? null) : null;
}

export function readChoice(
  clean: string,
  words: readonly string[],
  ask: TimeAsk | null,
  context: UnderstandContext,
): number | null {
  const count = context.offered.length;
  if (count === 0) return null;
  return (
    numberPick(clean, words, count) ??
    ordinalPick(words, count) ??
    timePick(ask, context) ??
    hourPick(words, context)
  );
}

/** A lone number that cannot be an option ("10" with three on offer) may still name an offer's hour. */
function hourPick(words: readonly string[], context: UnderstandContext): number | null {
  const numbers = words.filter((w) => /^\d{1,2}$/.test(w)).map(Number);
  const [n] = numbers;
  if (numbers.length !== 1 || n === undefined || n <= context.offered.length || n > 12) return null;
  const hour = n <= 6 ? n + 12 : n;
  const matches: number[] = [];
  context.offered.forEach((slot, index) => {
    const local = DateTime.fromISO(slot.start, { zone: 'utc' }).setZone(context.timeZone);
    if (local.hour === hour && local.minute === 0) matches.push(index);
  });
  return matches.length === 1 ? (matches[0] ?? null) : null;
}
