// Carrier compliance keywords (CTIA / Twilio defaults). Decisions that must stay true:
// - Only a message that is the keyword alone counts: "Stop by at 5" is a sentence, not an opt-out.
//   Free-form revocations ("please stop texting me") are the dialogue's job, not this function's.
// - Normalisation: trim, drop anything that is not a letter or digit at either end (".", "!",
//   quotes, emoji), collapse inner whitespace, hyphens and underscores to one space, ignore case.
// - Two-word spellings are accepted where carriers and people use them: "OPT OUT" / "OPT-OUT"
//   (= OPTOUT) and "STOP ALL" (= STOPALL). Nothing else of two words is a keyword.
// - YES is NOT opt-in: the booking dialogue uses it to confirm a slot. (Twilio's default
//   Advanced Opt-Out does treat YES as opt-in at its layer; if it lets a message through, our own
//   opt-out state still blocks it, which is the safe direction.)

export type KeywordKind = 'opt_out' | 'opt_in' | 'help';

const KEYWORDS: ReadonlyMap<string, KeywordKind> = new Map<string, KeywordKind>([
  ['STOP', 'opt_out'],
  ['STOPALL', 'opt_out'],
  ['STOP ALL', 'opt_out'],
  ['UNSUBSCRIBE', 'opt_out'],
  ['CANCEL', 'opt_out'],
  ['END', 'opt_out'],
  ['QUIT', 'opt_out'],
  ['REVOKE', 'opt_out'],
  ['OPTOUT', 'opt_out'],
  ['OPT OUT', 'opt_out'],
  ['START', 'opt_in'],
  ['UNSTOP', 'opt_in'],
  ['HELP', 'help'],
  ['INFO', 'help'],
]);

// Longer than any keyword with generous padding; bodies beyond this cannot be a bare keyword.
const MAX_KEYWORD_BODY_LENGTH = 64;

const EDGES = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;
const INNER_SEPARATORS = /[\s_-]+/gu;

export function normalizeKeywordBody(body: string): string {
  return body.replace(EDGES, '').replace(INNER_SEPARATORS, ' ').toUpperCase();
}

export function classifyKeyword(body: string): KeywordKind | null {
  if (typeof body !== 'string') return null;
  // Length is checked after a (linear) trim and before any regex, which bounds the regex work.
  const trimmed = body.trim();
  if (trimmed.length > MAX_KEYWORD_BODY_LENGTH) return null;
  return KEYWORDS.get(normalizeKeywordBody(trimmed)) ?? null;
}
