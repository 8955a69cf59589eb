import { type CatalogService, matchCatalog, normalizeTokens } from '../catalog-match.ts';
import { sameWord } from './read-text.ts';
import { ELSEWHERE, TRADES } from './trades/index.ts';
import type { ServiceKind } from './trades/trade-template.ts';
import type { ServiceMatch, Trade, UnderstandContext } from './understanding.ts';

// Which of the tenant's services a text points at, and which kind of work it describes. Pure.
//
// - The trade template turns a description into service kinds ("water won't go down" → drain);
//   a catalog item serves a kind when its name or aliases carry one of the kind's `names`. When a
//   kind is recognised, only items serving it are returned: a text about a burst pipe names no
//   "water heater", whatever words the two share. When none is, the catalog's own fuzzy match
//   (name and aliases, src/domain/catalog-match.ts) decides.
// - A kind scores the words of its matched phrases, plus half a point when the text names the
//   object the kind is about (one of its `names`), so "toilet leaking" is the toilet, not a leak.
// - Kinds of other trades, or of work no trade here does, found when nothing of this trade is,
//   make the text out of scope.

type Phrase = { tokens: string[] };

const DIRECT_MIN_SCORE = 0.75;

type CompiledKind = { kind: ServiceKind; phrases: Phrase[]; names: Phrase[] };

const compiled = new WeakMap<ServiceKind, CompiledKind>();

function compile(kind: ServiceKind): CompiledKind {
  const hit = compiled.get(kind);
  if (hit !== undefined) return hit;
  const unique = (list: readonly string[]): Phrase[] => {
    const seen = new Set<string>();
    const out: Phrase[] = [];
    for (const p of list) {
      const tokens = normalizeTokens(p);
      const id = [...tokens].sort().join(' ');
      if (tokens.length === 0 || seen.has(id)) continue;
      seen.add(id);
      out.push({ tokens });
    }
    return out;
  };
  const c = { kind, phrases: unique(kind.phrases), names: unique(kind.names) };
  compiled.set(kind, c);
  return c;
}

function contains(text: readonly string[], phrase: Phrase): boolean {
  return phrase.tokens.every((p) => text.some((t) => sameWord(t, p)));
}

export type KindMatch = {
  kind: ServiceKind;
  score: number;
  /** The text names the object itself (one of the kind's `names`), not only a symptom. */
  named: boolean;
};

export function matchKinds(kinds: readonly ServiceKind[], textTokens: readonly string[]): KindMatch[] {
  const matches: KindMatch[] = [];
  for (const k of kinds) {
    const c = compile(k);
    let score = 0;
    for (const phrase of c.phrases) if (contains(textTokens, phrase)) score += phrase.tokens.length;
    if (score === 0) continue;
    const named = c.names.some((n) => contains(textTokens, n));
    if (named) score += 0.5;
    score += k.priority ?? 0;
    matches.push({ kind: k, score, named });
  }
  return matches.sort((a, b) => b.score - a.score);
}

function serves(kind: ServiceKind, item: UnderstandContext['catalog'][number]): boolean {
  const tokens = normalizeTokens([item.name, ...item.aliases].join(' '));
  return compile(kind).names.some((n) => n.tokens.every((t) => tokens.includes(t)));
}

export type ServiceReading = {
  services: ServiceMatch[];
  /** Kinds of this trade the text describes, best first. */
  kinds: string[];
  /** A kind of work this trade does not do, when the text asks only for such work. */
  outOfScope: string | null;
};

export function readServices(
  text: string,
  trade: Trade,
  catalog: UnderstandContext['catalog'],
): ServiceReading {
  const tokens = normalizeTokens(text);
  const own = TRADES[trade].kinds;
  const ownKeys = new Set(own.map((k) => k.kind));
  const kinds = matchKinds(own, tokens);

  const services: ServiceMatch[] = [];
  for (const { kind, score } of kinds) {
    for (const item of catalog) {
      if (services.some((s) => s.id === item.id) || !serves(kind, item)) continue;
      services.push({ id: item.id, score: Math.min(1, 0.5 + score / 4) });
    }
  }

  const direct = matchCatalog(
    catalog.map((c): CatalogService => ({ id: c.id, name: c.name, aliases: c.aliases, active: true })),
    text,
  );
  // The tenant names the work in its own words, which no kind covers. One shared word ("water" of
  // "water heater") is no evidence: the match must explain most of the name.
  if (services.length === 0 && direct.decision.kind !== 'none') {
    const ids = direct.decision.kind === 'match' ? [direct.decision.id] : direct.decision.ids;
    for (const c of direct.candidates)
      if (ids.includes(c.id) && c.score >= DIRECT_MIN_SCORE) services.push(c);
  }

  // Work of another trade, described by its object ("roof", "AC"), is out of scope even when a
  // symptom word of this trade comes with it ("my roof is leaking").
  let outOfScope: string | null = null;
  const directlyNamed = services.length > 0 && kinds.length === 0;
  if (!directlyNamed && !kinds.some((k) => k.named)) {
    const others = Object.entries(TRADES)
      .filter(([t]) => t !== trade)
      .flatMap(([, template]) => template.kinds)
      .filter((k) => !ownKeys.has(k.kind));
    const tradeWords = Object.entries(TRADES)
      .filter(([t]) => t !== trade)
      .map(([t, template]): ServiceKind => ({ kind: t, label: t, names: [], phrases: template.words }));
    const foreign = matchKinds([...others, ...ELSEWHERE, ...tradeWords], tokens);
    const best = foreign[0];
    if (best !== undefined && (kinds.length === 0 || best.named || !others.includes(best.kind))) {
      outOfScope = best.kind.label;
    }
  }
  if (outOfScope !== null) return { services: [], kinds: [], outOfScope };

  return { services, kinds: kinds.map((k) => k.kind.kind), outOfScope };
}

const emergencyPhrases = new WeakMap<object, Phrase[]>();

/** Whether the words of one of this trade's dangers appear in order, at most two words apart. */
export function describesEmergency(textTokens: readonly string[], trade: Trade): boolean {
  const template = TRADES[trade];
  let phrases = emergencyPhrases.get(template);
  if (phrases === undefined) {
    phrases = template.emergencies
      .map((p) => ({ tokens: normalizeTokens(p) }))
      .filter((p) => p.tokens.length > 0);
    emergencyPhrases.set(template, phrases);
  }
  return phrases.some((p) => inOrder(textTokens, p.tokens));
}

function inOrder(text: readonly string[], phrase: readonly string[]): boolean {
  const [first, ...rest] = phrase;
  if (first === undefined) return false;
  outer: for (let start = 0; start < text.length; start++) {
    if (!sameWord(text[start] ?? '', first)) continue;
    let at = start;
    for (const p of rest) {
      const next = text.slice(at + 1, at + 4).findIndex((t) => sameWord(t, p));
      if (next === -1) continue outer;
      at += next + 1;
    }
    return true;
  }
  return false;
}
