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

type CompiledKind = { kind: ServiceKind; phrases: Phrase[]; names: Phrase[] };

const compiled = new Map<string, CompiledKind>();

function compile(kind: ServiceKind): CompiledKind {
  const key = `${kind.kind}:${kind.label}`;
  const hit = compiled.get(key);
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
  compiled.set(key, c);
  return c;
}

function contains(text: readonly string[], phrase: Phrase): boolean {
  return phrase.tokens.every((p) => text.some((t) => sameWord(t, p)));
}

export type KindMatch = { kind: ServiceKind; score: number };

export function matchKinds(kinds: readonly ServiceKind[], textTokens: readonly string[]): KindMatch[] {
  const matches: KindMatch[] = [];
  for (const k of kinds) {
    const c = compile(k);
    let score = 0;
    for (const phrase of c.phrases) if (contains(textTokens, phrase)) score += phrase.tokens.length;
    if (score === 0) continue;
    if (c.names.some((n) => contains(textTokens, n))) score += 0.5;
    matches.push({ kind: k, score });
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
  if (kinds.length === 0) {
    if (direct.decision.kind === 'match') {
      const id = direct.decision.id;
      services.push({ id, score: direct.candidates.find((c) => c.id === id)?.score ?? 1 });
    } else if (direct.decision.kind === 'ambiguous') {
      for (const c of direct.candidates) if (direct.decision.ids.includes(c.id)) services.push(c);
    }
  } else if (services.length === 0 && direct.decision.kind === 'match') {
    // The tenant names the work in its own words, which no kind covers.
    const id = direct.decision.id;
    const score = direct.candidates.find((c) => c.id === id)?.score ?? 0;
    if (score >= 0.8) services.push({ id, score });
  }

  let outOfScope: string | null = null;
  if (kinds.length === 0 && services.length === 0) {
    const others = Object.entries(TRADES)
      .filter(([t]) => t !== trade)
      .flatMap(([, template]) => template.kinds)
      .filter((k) => !ownKeys.has(k.kind));
    const foreign = matchKinds([...others, ...ELSEWHERE], tokens);
    outOfScope = foreign[0]?.kind.label ?? null;
  }

  return { services, kinds: kinds.map((k) => k.kind.kind), outOfScope };
}
