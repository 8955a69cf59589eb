// Matching what a caller writes ("my drain is clogged") to a Service Item of the tenant's catalog.
// Decisions that must stay true:
// - Text and every name/alias are normalised the same way: accents stripped (NFKD), lower case,
//   apostrophes dropped, other punctuation = space, filler words removed (STOP_WORDS), light
//   stemming (plurals, -ing, -ed, doubled final consonant: "clogged" → "clog").
// - A token matches exactly (1), or with a typo (TYPO_SIMILARITY) when both tokens have ≥ 4 letters
//   and their Damerau-Levenshtein distance is ≤ 1 (≤ 2 from 8 letters on).
// - A phrase (name or alias) scores the F1 of recall (how much of the phrase the text mentions) and
//   precision (how much of the text's catalog words the phrase explains). Words that appear in no
//   active phrase ("kitchen", "yesterday") are noise and do not dilute precision, so a chatty
//   message still matches, while "install a water heater" prefers "Water heater install" over
//   "Water heater". A service scores its best phrase.
// - If the text's catalog words (as a set) equal one service's normalised name or alias, that
//   service is the match, whatever the fuzzy scores of others (two services sharing it → ambiguous).
// - Never guess between close ones. A rival is any candidate within AMBIGUITY_MARGIN of the top,
//   or any candidate supported by every text word that supports the top (the top would only win by
//   having a shorter name: "repair" must not pick "Toilet repair" over "Water heater repair").
//   Any rival makes the decision ambiguous. Below MATCH_MIN_SCORE there is no decision at all.
// - Inactive services are never scored, never returned and do not contribute vocabulary.
// - The result does not depend on the order of `services`: ties are broken by id.
// - Only the first MAX_TEXT_LENGTH characters are read (ten SMS segments), bounding the work.

export type CatalogService = { id: string; name: string; aliases: readonly string[]; active: boolean };

export type CatalogCandidate = { id: string; score: number };

export type CatalogDecision =
  | { kind: 'match'; id: string }
  | { kind: 'ambiguous'; ids: string[] }
  | { kind: 'none' };

export type CatalogMatch = { candidates: CatalogCandidate[]; decision: CatalogDecision };

export const MATCH_MIN_SCORE = 0.55;
export const CANDIDATE_MIN_SCORE = 0.3;
export const AMBIGUITY_MARGIN = 0.15;
export const TYPO_SIMILARITY = 0.85;
export const TYPO_MIN_LENGTH = 4;
export const TYPO_TWO_EDITS_MIN_LENGTH = 8;
export const MAX_TEXT_LENGTH = 1600;

// Filler words that never name a service. Kept as one string so the formatter leaves it compact.
const STOP_WORDS = new Set(
  (
    'a an the my our your his her their its it is are was were be been am i im ive we me us you to of for ' +
    'on in at and or with some need needs want would like please pls can could get got have has had do ' +
    'does this that there theres hi hello hey up thanks thank so just also about from someone somebody looking'
  ).split(' '),
);

const NO_UNDOUBLE = new Set(['l', 's', 'z']);

function stem(token: string): string {
  let t = token;
  if (t.length > 4 && t.endsWith('ies')) return `${t.slice(0, -3)}y`;
  if (t.length > 4 && /(?:ss|x|z|ch|sh)es$/.test(t)) return t.slice(0, -2);
  if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss') && !t.endsWith('us')) return t.slice(0, -1);
  if (t.length > 5 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith('ed')) t = t.slice(0, -2);
  else return t;
  // "clogg" → "clog", "stopp" → "stop"; but "install", "press" keep their double letter.
  const last = t.at(-1) ?? '';
  if (t.length > 3 && last === t.at(-2) && !NO_UNDOUBLE.has(last) && !/[aeiou]/.test(last))
    t = t.slice(0, -1);
  return t;
}

export function normalizeTokens(text: string): string[] {
  const cleaned = text
    .slice(0, MAX_TEXT_LENGTH)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’‘`]/gu, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ');
  const tokens: string[] = [];
  for (const raw of cleaned.split(' ')) {
    if (raw.length < 2 || STOP_WORDS.has(raw)) continue;
    const s = stem(raw);
    if (!tokens.includes(s)) tokens.push(s);
  }
  return tokens;
}

// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions), with an
// early exit once every cell of a row exceeds `max`.
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      }
      cur.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function tokenSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const shorter = Math.min(a.length, b.length);
  if (shorter < TYPO_MIN_LENGTH || shorter > 40) return 0;
  const allowed = shorter >= TYPO_TWO_EDITS_MIN_LENGTH ? 2 : 1;
  return editDistance(a, b, allowed) <= allowed ? TYPO_SIMILARITY : 0;
}

function bestSimilarity(token: string, among: readonly string[]): number {
  let best = 0;
  for (const other of among) {
    const s = tokenSimilarity(token, other);
    if (s > best) best = s;
    if (best === 1) break;
  }
  return best;
}

type PhraseScore = { score: number; evidence: Set<string> };

function phraseScore(phrase: readonly string[], relevant: readonly string[]): PhraseScore {
  const evidence = new Set<string>();
  if (phrase.length === 0 || relevant.length === 0) return { score: 0, evidence };
  let recallSum = 0;
  for (const p of phrase) recallSum += bestSimilarity(p, relevant);
  let precisionSum = 0;
  for (const t of relevant) {
    const s = bestSimilarity(t, phrase);
    if (s > 0) evidence.add(t);
    precisionSum += s;
  }
  const recall = recallSum / phrase.length;
  const precision = precisionSum / relevant.length;
  const score = recall + precision === 0 ? 0 : (2 * recall * precision) / (recall + precision);
  return { score, evidence };
}

function byScoreThenId(a: CatalogCandidate, b: CatalogCandidate): number {
  if (b.score !== a.score) return b.score - a.score;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function matchCatalog(services: readonly CatalogService[], text: string): CatalogMatch {
  const active = services.filter((s) => s.active);
  const phrasesById = new Map<string, string[][]>();
  const vocabulary = new Set<string>();
  for (const s of active) {
    const phrases = phrasesById.get(s.id) ?? [];
    for (const p of [s.name, ...s.aliases]) {
      const tokens = normalizeTokens(p);
      if (tokens.length === 0) continue;
      phrases.push(tokens);
      for (const t of tokens) vocabulary.add(t);
    }
    phrasesById.set(s.id, phrases);
  }

  const textTokens = normalizeTokens(text);
  const vocab = [...vocabulary];
  // Text words unrelated to any active phrase are ignored (see the header).
  const relevant = textTokens.filter((t) => bestSimilarity(t, vocab) > 0);
  const relevantKey = [...relevant].sort().join(' ');

  const candidates: CatalogCandidate[] = [];
  const evidence = new Map<string, Set<string>>();
  const exactIds: string[] = [];
  for (const [id, phrases] of phrasesById) {
    let best: PhraseScore = { score: 0, evidence: new Set() };
    for (const phrase of phrases) {
      if (relevantKey.length > 0 && [...phrase].sort().join(' ') === relevantKey && !exactIds.includes(id)) {
        exactIds.push(id);
      }
      const scored = phraseScore(phrase, relevant);
      if (scored.score > best.score) best = scored;
    }
    const score = Math.round(best.score * 1e6) / 1e6;
    if (score >= CANDIDATE_MIN_SCORE) {
      candidates.push({ id, score });
      evidence.set(id, best.evidence);
    }
  }
  candidates.sort(byScoreThenId);

  return { candidates, decision: decide(candidates, evidence, exactIds) };
}

function decide(
  candidates: readonly CatalogCandidate[],
  evidence: ReadonlyMap<string, ReadonlySet<string>>,
  exactIds: readonly string[],
): CatalogDecision {
  if (exactIds.length === 1 && exactIds[0] !== undefined) return { kind: 'match', id: exactIds[0] };
  if (exactIds.length > 1) return { kind: 'ambiguous', ids: [...exactIds].sort() };
  const top = candidates[0];
  if (top === undefined || top.score < MATCH_MIN_SCORE) return { kind: 'none' };
  const topEvidence = evidence.get(top.id) ?? new Set<string>();
  const rivals = candidates.filter(
    (c) => top.score - c.score < AMBIGUITY_MARGIN || isSuperset(evidence.get(c.id), topEvidence),
  );
  if (rivals.length === 1) return { kind: 'match', id: top.id };
  return { kind: 'ambiguous', ids: rivals.map((c) => c.id) };
}

function isSuperset(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  if (a === undefined) return false;
  for (const x of b) if (!a.has(x)) return false;
  return true;
}
