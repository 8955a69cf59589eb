import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AMBIGUITY_MARGIN,
  type CatalogService,
  editDistance,
  MATCH_MIN_SCORE,
  matchCatalog,
  normalizeTokens,
} from '../../../src/domain/catalog-match.ts';

const svc = (id: string, name: string, aliases: string[] = [], active = true): CatalogService => ({
  id,
  name,
  aliases,
  active,
});

const PLUMBING: CatalogService[] = [
  svc('drain', 'Drain cleaning', ['clogged drain', 'blocked drain']),
  svc('wh', 'Water heater'),
  svc('whi', 'Water heater install', ['new water heater']),
  svc('whr', 'Water heater repair', ['leaking water heater', 'no hot water']),
  svc('toilet', 'Toilet repair', ['running toilet']),
  svc('ac', 'AC tune-up', ['air conditioner service']),
  svc('sewer', 'Sewer line camera inspection', [], false),
];

const decide = (text: string, services = PLUMBING) => matchCatalog(services, text).decision;

describe('normalizeTokens', () => {
  it('lower-cases, strips accents, punctuation, filler words and stems', () => {
    expect(normalizeTokens('My DRAIN is clogged!!')).toEqual(['drain', 'clog']);
    expect(normalizeTokens('Café façade')).toEqual(['cafe', 'facade']);
    expect(normalizeTokens("there's no hot water")).toEqual(['no', 'hot', 'water']);
    expect(normalizeTokens('Drains, toilets & batteries; boxes')).toEqual([
      'drain',
      'toilet',
      'battery',
      'box',
    ]);
    expect(normalizeTokens('leaking, plugged, installed')).toEqual(['leak', 'plug', 'install']);
    expect(normalizeTokens('drain drain DRAIN')).toEqual(['drain']);
  });

  it('returns nothing for filler-only or empty text', () => {
    expect(normalizeTokens('')).toEqual([]);
    expect(normalizeTokens('hi, can you help me?')).toEqual(['help']);
    expect(normalizeTokens('!!!')).toEqual([]);
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions', () => {
    expect(editDistance('drain', 'drain')).toBe(0);
    expect(editDistance('drain', 'drian')).toBe(1);
    expect(editDistance('heater', 'heatr')).toBe(1);
    expect(editDistance('toilet', 'tiolet')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('stops early beyond the allowed maximum', () => {
    expect(editDistance('abcdefgh', 'zyxwvuts', 1)).toBe(2);
  });
});

describe('matchCatalog', () => {
  it('matches through an alias', () => {
    expect(decide('my drain is clogged')).toEqual({ kind: 'match', id: 'drain' });
    expect(decide("There's no hot water")).toEqual({ kind: 'match', id: 'whr' });
    expect(decide('toilet keeps running')).toEqual({ kind: 'match', id: 'toilet' });
  });

  it('tolerates typos', () => {
    expect(decide('clogged drian')).toEqual({ kind: 'match', id: 'drain' });
    expect(decide('watr heatr repair')).toEqual({ kind: 'match', id: 'whr' });
    expect(decide('tiolet')).toEqual({ kind: 'match', id: 'toilet' });
  });

  it('does not apply typo tolerance to short words', () => {
    expect(decide('ab')).toEqual({ kind: 'none' });
    expect(normalizeTokens('AC')).toEqual(['ac']);
    expect(decide('AC')).toEqual({ kind: 'match', id: 'ac' });
  });

  it('still matches inside a chatty message', () => {
    expect(decide('hi my kitchen sink drain is clogged again since yesterday, can someone come?')).toEqual({
      kind: 'match',
      id: 'drain',
    });
  });

  it('water heater vs water heater install vs water heater repair', () => {
    expect(decide('water heater')).toEqual({ kind: 'match', id: 'wh' }); // exact name
    expect(decide('Water Heater Install')).toEqual({ kind: 'match', id: 'whi' });
    expect(decide('I need to install a new water heater')).toEqual({ kind: 'match', id: 'whi' });
    expect(decide('my water heater is leaking')).toEqual({ kind: 'match', id: 'whr' });
  });

  it('is ambiguous when the text fits several services equally', () => {
    const withoutPlain = PLUMBING.filter((s) => s.id !== 'wh');
    expect(decide('water heater', withoutPlain)).toEqual({ kind: 'ambiguous', ids: ['whi', 'whr'] });
    expect(decide('my water heater', withoutPlain)).toEqual({ kind: 'ambiguous', ids: ['whi', 'whr'] });
  });

  it('does not pick the shorter name when the evidence is the same ("repair")', () => {
    const d = decide('repair');
    expect(d.kind).toBe('ambiguous');
    if (d.kind === 'ambiguous') expect(d.ids).toEqual(['toilet', 'whr']);
  });

  it('is ambiguous when the text mentions two things', () => {
    expect(decide('drain and water heater').kind).toBe('ambiguous');
  });

  it('returns none for unrelated text', () => {
    expect(matchCatalog(PLUMBING, 'what time do you open?')).toEqual({
      candidates: [],
      decision: { kind: 'none' },
    });
    expect(decide('')).toEqual({ kind: 'none' });
    expect(decide('__proto__')).toEqual({ kind: 'none' });
  });

  it('never returns inactive services', () => {
    const r = matchCatalog(PLUMBING, 'sewer line camera inspection');
    expect(r.candidates.map((c) => c.id)).not.toContain('sewer');
    expect(r.decision).toEqual({ kind: 'none' });
  });

  it('treats two services with the same name as ambiguous', () => {
    const dup = [svc('a', 'Drain cleaning'), svc('b', 'Drain Cleaning')];
    expect(decide('drain cleaning', dup)).toEqual({ kind: 'ambiguous', ids: ['a', 'b'] });
  });

  it('survives hostile ids and names', () => {
    const hostile = [svc('__proto__', 'constructor'), svc('constructor', 'toString'), svc('x', '')];
    expect(decide('constructor', hostile)).toEqual({ kind: 'match', id: '__proto__' });
    expect(decide('toString', hostile)).toEqual({ kind: 'match', id: 'constructor' });
  });

  it('stays fast on very long input', () => {
    const started = performance.now();
    matchCatalog(PLUMBING, 'clogged drain '.repeat(100_000));
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('sorts candidates by score, descending', () => {
    const r = matchCatalog(PLUMBING, 'water heater');
    expect(r.candidates.map((c) => c.id)).toEqual(['wh', 'whi', 'whr']);
    expect(r.candidates[0]?.score).toBe(1);
  });
});

describe('matchCatalog properties', () => {
  const word = fc.constantFrom(
    'drain',
    'water',
    'heater',
    'toilet',
    'repair',
    'install',
    'sewer',
    'furnace',
    'boiler',
    'faucet',
    'leak',
    'pipe',
    'camera',
    'inspection',
    'gas',
    'line',
    'tune',
    'filter',
    'duct',
    'cleaning',
    'emergency',
    'sump',
    'pump',
  );
  const name = fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
  const service: fc.Arbitrary<CatalogService> = fc.record({
    id: fc.stringMatching(/^[a-z0-9_]{1,8}$/),
    name,
    aliases: fc.array(name, { maxLength: 2 }),
    active: fc.boolean(),
  });
  const catalog = fc.uniqueArray(service, { selector: (s) => s.id, maxLength: 8 });
  const text = fc.oneof(
    name,
    fc.string({ maxLength: 40 }),
    fc.array(word, { maxLength: 8 }).map((w) => w.join(' ')),
  );

  it('scores are within 0..1, sorted descending, and only active services appear', () => {
    fc.assert(
      fc.property(catalog, text, (services, t) => {
        const r = matchCatalog(services, t);
        const active = new Set(services.filter((s) => s.active).map((s) => s.id));
        for (const c of r.candidates) {
          expect(c.score).toBeGreaterThanOrEqual(0);
          expect(c.score).toBeLessThanOrEqual(1);
          expect(active.has(c.id)).toBe(true);
        }
        for (let i = 1; i < r.candidates.length; i++) {
          expect(r.candidates[i - 1]?.score).toBeGreaterThanOrEqual(r.candidates[i]?.score ?? 0);
        }
        const d = r.decision;
        if (d.kind === 'match') expect(active.has(d.id)).toBe(true);
        if (d.kind === 'ambiguous') {
          expect(d.ids.length).toBeGreaterThanOrEqual(2);
          for (const id of d.ids) expect(active.has(id)).toBe(true);
        }
      }),
    );
  });

  it('an exact name is a match when the normalised names are distinct', () => {
    const distinct = fc
      .uniqueArray(name, {
        minLength: 1,
        maxLength: 8,
        selector: (n) => [...normalizeTokens(n)].sort().join(' '),
      })
      .map((names) => names.map((n, i) => svc(`s${i}`, n)));
    fc.assert(
      fc.property(distinct, fc.nat(), (services, k) => {
        const target = services[k % services.length];
        if (target === undefined) return;
        expect(matchCatalog(services, target.name).decision).toEqual({ kind: 'match', id: target.id });
      }),
    );
  });

  it('never decides a match when the runner-up is within the margin', () => {
    fc.assert(
      fc.property(catalog, text, (services, t) => {
        const r = matchCatalog(services, t);
        const [first, second] = r.candidates;
        if (r.decision.kind !== 'match' || first === undefined || second === undefined) return;
        const exact = normalizeTokens(t).length > 0 && first.score === 1;
        if (!exact) expect(first.score - second.score).toBeGreaterThanOrEqual(AMBIGUITY_MARGIN);
      }),
    );
  });

  it('a match has at least MATCH_MIN_SCORE', () => {
    fc.assert(
      fc.property(catalog, text, (services, t) => {
        const r = matchCatalog(services, t);
        if (r.decision.kind === 'match') {
          const id = r.decision.id;
          expect(r.candidates.find((c) => c.id === id)?.score).toBeGreaterThanOrEqual(MATCH_MIN_SCORE);
        }
      }),
    );
  });

  it('the result does not depend on the order of services', () => {
    fc.assert(
      fc.property(catalog, text, fc.nat(), (services, t, seed) => {
        const shuffled = [...services];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2 ** 31;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as CatalogService, shuffled[i] as CatalogService];
        }
        expect(matchCatalog(shuffled, t)).toEqual(matchCatalog(services, t));
      }),
    );
  });
});
