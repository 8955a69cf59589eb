import { describe, expect, it } from 'vitest';
import { normalizeTokens } from '../../../../src/domain/catalog-match.ts';
import { readText } from '../../../../src/domain/understanding/read-text.ts';
import { readServices as readRaw } from '../../../../src/domain/understanding/services.ts';
import { ELSEWHERE, TRADES } from '../../../../src/domain/understanding/trades/index.ts';

// As understand() calls it: on the text with shorthand ("AC") and typos corrected.
const readServices: typeof readRaw = (text, trade, catalog) => readRaw(readText(text).clean, trade, catalog);

const DEMO = [
  { id: 'drain', name: 'Drain cleaning', aliases: ['clogged drain'] },
  { id: 'heater', name: 'Water heater repair', aliases: ['no hot water', 'water heater'] },
  { id: 'toilet', name: 'Toilet repair', aliases: [] },
];

describe('readServices', () => {
  it('never maps a burst pipe or low pressure to the water heater for sharing the word "water"', () => {
    expect(
      readServices('pipe burst under the kitchen sink, water everywhere', 'plumbing', DEMO).services,
    ).toEqual([]);
    expect(readServices('water pressure in the whole house is low', 'plumbing', DEMO).services).toEqual([]);
  });

  it('prefers the object over the symptom', () => {
    expect(readServices('toilet is clogged', 'plumbing', DEMO).services[0]?.id).toBe('toilet');
    expect(readServices('sink is clogged', 'plumbing', DEMO).services[0]?.id).toBe('drain');
  });

  it('finds other trades out of scope, even with a symptom word of this one', () => {
    expect(readServices('can you fix my AC?', 'plumbing', DEMO).outOfScope).toBe('air conditioning');
    expect(readServices('my roof is leaking', 'plumbing', DEMO).outOfScope).toBe('roofing');
    expect(readServices('toilet is overflowing', 'hvac', []).outOfScope).toBe('toilet repair');
    expect(readServices('furnace is out', 'electrical', []).outOfScope).toBe('heating');
    expect(readServices('toilet is leaking', 'plumbing', DEMO).outOfScope).toBeNull();
  });

  it('has templates whose every phrase and name still says something after normalisation', () => {
    for (const template of [...Object.values(TRADES), { words: [], kinds: ELSEWHERE, emergencies: [] }]) {
      for (const kind of template.kinds) {
        for (const phrase of [...kind.phrases, ...kind.names])
          expect(normalizeTokens(phrase), phrase).not.toEqual([]);
      }
      for (const phrase of template.emergencies) expect(normalizeTokens(phrase), phrase).not.toEqual([]);
    }
  });
});
