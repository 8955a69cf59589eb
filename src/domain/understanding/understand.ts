import { normalizeTokens } from '../catalog-match.ts';
import { classifyKeyword } from '../keywords.ts';
import { readChoice } from './choice.ts';
import { detectLanguage, guessOtherLanguage } from './language.ts';
import {
  CANCEL,
  CHANGE_STRONG,
  CHANGE_WEAK,
  COMPLAINT,
  COMPLAINT_ADJECTIVES,
  EMERGENCY_SHARED,
  FILLER,
  firstPhrase,
  GREETING,
  type Lexicon,
  NEED,
  NO,
  NONE,
  PERSON,
  PRICE,
  THANKS,
  WAIT,
  WHEN,
  WHEN_BOOKED,
  YES,
} from './lexicon.ts';
import { readText } from './read-text.ts';
import { describesEmergency, readServices } from './services.ts';
import { readTimeAsk } from './time-ask.ts';
import { TRADES } from './trades/index.ts';
import type { Intent, UnderstandContext, Understanding } from './understanding.ts';

// What a customer's text means, without a language model. Pure: `now` and `timeZone` come from
// the context, never from a clock.
//
// Every reading is made (language, services, time, choice, emergency, anger), then one intent is
// chosen by precedence, most consequential first: an emergency, a request for a person, a
// complaint, cancelling, moving or asking about a booking, a pick among offered times, "none of
// those", out-of-scope work, a price question, a need, a time request, yes/no, thanks, a greeting.
// A text that says several things keeps all its slots, so "toilet leaking, can you come tomorrow
// at 3?" is a need with a time ask.

const NO_FIRST: ReadonlySet<string> = new Set(['no', 'nope', 'nah']);
// "ok so", "yes but": a yes word that opens a sentence the customer has not finished.
const HESITATION: ReadonlySet<string> = new Set(['so', 'but', 'wait', 'um', 'hmm', 'pero']);

const ANGRY_PUNCTUATION = /[!?]{3,}/u;

function any(words: readonly string[], lexicon: Lexicon): boolean {
  return firstPhrase(words, lexicon) !== null;
}

/** Whether every word is from the lexicon or filler: "hi there", "thanks so much". */
function only(words: readonly string[], lexicons: readonly Lexicon[]): boolean {
  if (words.length === 0) return false;
  const covered = new Array<boolean>(words.length).fill(false);
  for (const lexicon of lexicons) {
    for (const phrase of lexicon) {
      const parts = phrase.split(' ');
      for (let i = 0; i + parts.length <= words.length; i++) {
        if (parts.every((p, k) => words[i + k] === p))
          for (let k = 0; k < parts.length; k++) covered[i + k] = true;
      }
    }
  }
  return words.every((w, i) => covered[i] || FILLER.has(w));
}

const IDENTITY_QUESTION: Lexicon = [
  'is this the',
  'is this a',
  'are you the',
  'this is the',
  'es el',
  'eres el',
];

// Senses: "smells awful", "horrible noise" describe the problem, not the service.
const SENSES: ReadonlySet<string> = new Set([
  'smell',
  'smells',
  'smelling',
  'odor',
  'stink',
  'stinks',
  'noise',
  'noises',
  'sound',
  'sounds',
  'taste',
  'tastes',
  'looks',
]);

function complainingAdjective(words: readonly string[]): boolean {
  return words.some(
    (w, i) =>
      COMPLAINT_ADJECTIVES.includes(w) && !words.slice(Math.max(0, i - 2), i + 3).some((x) => SENSES.has(x)),
  );
}

export function understand(text: string, context: UnderstandContext): Understanding {
  const read = readText(text);
  const { clean, words } = read;
  const language = detectLanguage(words, clean);
  const base: Understanding = {
    intent: 'unknown',
    language,
    otherLanguage: language === 'other' ? guessOtherLanguage(clean) : null,
    services: [],
    time: null,
    choice: null,
    emergency: false,
    upset: false,
    outOfScope: null,
  };
  // Carrier keywords (STOP, CANCEL, HELP…) are answered before the dialogue; alone they mean nothing here.
  if (words.length === 0 || classifyKeyword(text) !== null) return base;

  const time = readTimeAsk(clean, language, context.now, context.timeZone);
  const reading = readServices(clean, context.trade, context.catalog);
  const choice = readChoice(clean, words, time, context);
  const tokens = normalizeTokens(clean);
  const emergency = any(words, EMERGENCY_SHARED) || describesEmergency(tokens, context.trade);
  const upset =
    any(words, COMPLAINT) ||
    complainingAdjective(words) ||
    (ANGRY_PUNCTUATION.test(clean) && /\b(why|where|still|never|again)\b/u.test(clean));

  const offering = context.offered.length > 0;
  const booked = context.appointment !== undefined && context.appointment !== null;
  const askedForWork = reading.kinds.length > 0 || reading.services.length > 0 || any(words, NEED);
  // "is this the plumber?" greets; "do you do plumbing work?" asks for work.
  const tradeNamed = any(words, TRADES[context.trade].words);
  const needWords = askedForWork || (tradeNamed && !any(words, IDENTITY_QUESTION));

  const intent = ((): Intent => {
    if (emergency) return 'emergency';
    // An angry request for a person is a complaint: both get a person, a complaint an apology too.
    if (upset) return 'complaint';
    if (any(words, PERSON)) return 'person';
    if (any(words, CANCEL)) return 'cancel';
    if (any(words, CHANGE_STRONG)) return 'change';
    if (booked && !offering && any(words, CHANGE_WEAK)) return 'change';
    if (any(words, WHEN)) return 'when';
    if (booked && !offering && clean.includes('?') && any(words, WHEN_BOOKED) && !any(words, CHANGE_WEAK)) {
      return 'when';
    }
    if (choice !== null) return 'choice';
    if (only(words, [GREETING])) return 'greeting';
    if (reading.outOfScope !== null) return 'out_of_scope';
    if (any(words, PRICE)) return 'price';
    if (needWords) return 'need';
    if (time !== null) return booked && !offering ? 'change' : 'time';
    if (any(words, NONE)) return 'none';
    if (any(words, WAIT)) return 'unknown';
    if (
      only(words, [THANKS, YES]) &&
      any(words, THANKS) &&
      !any(words, ['yes', 'yeah', 'yep', 'si', 'please', 'book'])
    ) {
      return 'thanks';
    }
    if (any(words, YES) && !NO_FIRST.has(words[0] ?? '') && !HESITATION.has(words.at(-1) ?? '')) return 'yes';
    if (any(words, NO)) return 'no';
    if (any(words, THANKS)) return 'thanks';
    if (any(words, GREETING)) return 'greeting';
    return 'unknown';
  })();

  return {
    ...base,
    intent,
    services: reading.services,
    time,
    choice: intent === 'choice' ? choice : null,
    emergency,
    upset,
    outOfScope: intent === 'out_of_scope' ? reading.outOfScope : null,
  };
}
