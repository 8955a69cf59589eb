import { editDistance } from '../catalog-match.ts';

// The text a customer sent, made readable once for every part of the reader: lower case, the
// emoji that carry meaning spelled out, everyday shorthand and misspellings of the words the
// reader relies on corrected. Two views: `clean` keeps punctuation and accents (chrono reads it),
// `words` is accent-free tokens for phrase matching. Pure.
//
// - Shorthand (`tmrw`, `pls`, `thx`) is a fixed table: those are not typos of a word, so distance
//   cannot find them.
// - Misspellings of known words ("tomorow", "wensday", "plumer") are found by Damerau-Levenshtein
//   distance against VOCABULARY: one edit from 6 letters on, two between words of 7 and 8 letters on. Shorter words are left
//   alone, where one edit turns a word into another ("fix"/"six").
// - Only the first MAX_TEXT characters are read (ten SMS segments), bounding the work.

export const MAX_TEXT = 1600;

// Five-letter words are too often one edit from another word ("lease"/"please", "later"/"water").
const MIN_CORRECTED = 6;

const EMOJI: readonly [RegExp, string][] = [
  [/[👍👌✅🆗☑✔]|\u{1F44D}/gu, ' yes '],
  [/[👎❌]/gu, ' no '],
  [/[🙏]/gu, ' thanks '],
  [/[😡🤬😠💢]/gu, ' angry '],
  [/[🚨🆘]/gu, ' urgent '],
];

const SHORTHAND: ReadonlyMap<string, string> = new Map([
  ['tmrw', 'tomorrow'],
  ['tmr', 'tomorrow'],
  ['tmrow', 'tomorrow'],
  ['tomm', 'tomorrow'],
  ['2moro', 'tomorrow'],
  ['2morrow', 'tomorrow'],
  ['2day', 'today'],
  ['tdy', 'today'],
  ['2nite', 'tonight'],
  ['tonite', 'tonight'],
  ['pls', 'please'],
  ['plz', 'please'],
  ['plse', 'please'],
  ['thx', 'thanks'],
  ['thnx', 'thanks'],
  ['thnks', 'thanks'],
  ['tks', 'thanks'],
  ['ty', 'thanks'],
  ['tysm', 'thanks'],
  ['u', 'you'],
  ['ur', 'your'],
  ['r', 'are'],
  ['b4', 'before'],
  ['appt', 'appointment'],
  ['apt', 'appointment'],
  ['appts', 'appointments'],
  ['wk', 'week'],
  ['nxt', 'next'],
  ['wknd', 'weekend'],
  ['mon', 'monday'],
  ['tue', 'tuesday'],
  ['tues', 'tuesday'],
  ['wed', 'wednesday'],
  ['weds', 'wednesday'],
  ['thu', 'thursday'],
  ['thur', 'thursday'],
  ['thurs', 'thursday'],
  ['fri', 'friday'],
  ['sat', 'saturday'],
  ['sun', 'sunday'],
  ['k', 'ok'],
  ['kk', 'ok'],
  ['okk', 'ok'],
  ['okey', 'ok'],
  ['oki', 'ok'],
  ['ya', 'yeah'],
  ['yah', 'yeah'],
  ['yea', 'yeah'],
  ['ye', 'yes'],
  ['yess', 'yes'],
  ['yesss', 'yes'],
  ['np', 'no problem'],
  ['nvm', 'never mind'],
  ['idk', 'i do not know'],
  ['asap', 'as soon as possible'],
  ['rn', 'right now'],
  ['cuz', 'because'],
  ['bc', 'because'],
  ['wont', 'will not'],
  ['won’t', 'will not'],
  ["won't", 'will not'],
  ['cant', 'can not'],
  ["can't", 'can not'],
  ['can’t', 'can not'],
  ['cannot', 'can not'],
  ['dont', 'do not'],
  ["don't", 'do not'],
  ['don’t', 'do not'],
  ['doesnt', 'does not'],
  ["doesn't", 'does not'],
  ['doesn’t', 'does not'],
  ['isnt', 'is not'],
  ["isn't", 'is not'],
  ['isn’t', 'is not'],
  ['aint', 'is not'],
  ['wasnt', 'was not'],
  ["wasn't", 'was not'],
  ['didnt', 'did not'],
  ["didn't", 'did not'],
  ['didn’t', 'did not'],
  ['im', 'i am'],
  ["i'm", 'i am'],
  ['i’m', 'i am'],
  ['whats', 'what is'],
  ['whens', 'when is'],
  ["when's", 'when is'],
  ['when’s', 'when is'],
  ['wheres', 'where is'],
  ["where's", 'where is'],
  ["what's", 'what is'],
  ['what’s', 'what is'],
  ['wats', 'what is'],
  ['wat', 'what'],
  ['hows', 'how is'],
  ['thats', 'that is'],
  ["that's", 'that is'],
  ['that’s', 'that is'],
  ['theres', 'there is'],
  ["there's", 'there is'],
  ['ac', 'air conditioning'],
  ['a/c', 'air conditioning'],
  ['q', 'que'],
  ['xq', 'por que'],
  ['tb', 'también'],
  ['hr', 'hour'],
  ['hrs', 'hours'],
  ['min', 'minutes'],
  ['mins', 'minutes'],
  ['info', 'information'],
  ['convo', 'conversation'],
]);

/** Words the reader depends on, against which longer tokens are spell-corrected. */
const VOCABULARY: readonly string[] = [
  'tomorrow',
  'today',
  'tonight',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
  'morning',
  'afternoon',
  'evening',
  'weekend',
  'january',
  'february',
  'march',
  'april',
  'august',
  'september',
  'october',
  'november',
  'december',
  'appointment',
  'schedule',
  'reschedule',
  'cancel',
  'cancellation',
  'plumber',
  'electrician',
  'cleaner',
  'cleaning',
  'please',
  'thanks',
  'thank',
  'available',
  'anything',
  'anytime',
  'someone',
  'somebody',
  'person',
  'emergency',
  'flooding',
  'flooded',
  'leaking',
  'leaks',
  'clogged',
  'toilet',
  'faucet',
  'kitchen',
  'bathroom',
  'basement',
  'shower',
  'water',
  'heater',
  'furnace',
  'thermostat',
  'conditioning',
  'conditioner',
  'outlet',
  'outlets',
  'breaker',
  'electrical',
  'sewage',
  'sewer',
  'garbage',
  'disposal',
  'drain',
  'price',
  'charge',
  'estimate',
  'second',
  'third',
  'first',
  'another',
  'instead',
  'ridiculous',
  'terrible',
  'unacceptable',
  'manager',
  'sounds',
  'perfect',
  'definitely',
  'absolutely',
  'works',
  'mañana',
  'gracias',
  'semana',
  'lunes',
  'martes',
  'miércoles',
  'jueves',
  'viernes',
  'sábado',
  'domingo',
  'tarde',
  'necesito',
  'cuánto',
];

// Ordinary words one edit away from a VOCABULARY word ("change"/"charge", "later"/"water",
// "think"/"thank"): they are words, not typos, and stay as written.
const KNOWN_WORDS: ReadonlySet<string> = new Set(
  (
    'change changed changes charged later hater theater heated header think thinks thing things there ' +
    'where other words world train brain grain drawn drains rounds leaning prison sounds pounds ' +
    'mother father tonights outlets toilets faucets heaters drained draining leaked leaky clogs clog ' +
    'first worst forks worked cancels canceled cancelled schedules scheduled evenings mornings ' +
    'person persons personal prices priced priceless thankful water waters plumbers plumbing ' +
    'electric electricity cleaners cleaned clean sewers months weekends today todays another ' +
    'seconds thirds marzo martes jueves tardes semanas manana charger chargers cancelar cancela cancelo ' +
    'cancele cancelen cancelarla cancelamos'
  ).split(' '),
);

const VOCABULARY_SET = new Set(VOCABULARY);

export type ReadText = {
  /** Lower case, emoji spelled out, shorthand and misspellings corrected; punctuation kept. */
  clean: string;
  /** `clean` without accents, split into words (letters and digits only). */
  words: string[];
};

function foldAccents(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '');
}

function correct(token: string): string {
  const short = SHORTHAND.get(token);
  if (short !== undefined) return short;
  if (token.length < MIN_CORRECTED || VOCABULARY_SET.has(token) || KNOWN_WORDS.has(token) || /\d/.test(token))
    return token;
  let best: string | null = null;
  let bestDistance = 3;
  for (const word of VOCABULARY) {
    // Two edits only between long words ("wensday" → "wednesday").
    const allowed = word.length >= 8 && token.length >= 7 ? 2 : 1;
    const d = editDistance(foldAccents(token), foldAccents(word), allowed);
    if (d <= allowed && d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  return best ?? token;
}

export function readText(text: string): ReadText {
  let t = text.slice(0, MAX_TEXT).normalize('NFKC').toLowerCase();
  for (const [pattern, word] of EMOJI) t = t.replace(pattern, word);
  // Tokens are runs of letters, digits and inner apostrophes; everything else is kept as is.
  const clean = t
    .replace(/[\p{L}\p{N}/]+(?:['’][\p{L}]+)?/gu, (token) => correct(token))
    .replace(/\s+/g, ' ')
    .trim();
  const words = foldAccents(clean)
    .replace(/['’]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
  return { clean, words };
}

/** Whether `word` equals `target` or is one edit from it (words of MIN_CORRECTED letters or more: "floor" is not "flood"). */
export function sameWord(word: string, target: string): boolean {
  if (word === target) return true;
  if (word.length < MIN_CORRECTED || target.length < MIN_CORRECTED) return false;
  return editDistance(word, target, 1) <= 1;
}
