import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyKeyword, normalizeKeywordBody } from '../../../src/domain/keywords.ts';

const OPT_OUT = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
const OPT_IN = ['START', 'UNSTOP'];
const HELP = ['HELP', 'INFO'];

describe('classifyKeyword', () => {
  it.each(OPT_OUT)('%s is opt_out', (k) => {
    expect(classifyKeyword(k)).toBe('opt_out');
    expect(classifyKeyword(k.toLowerCase())).toBe('opt_out');
  });
  it.each(OPT_IN)('%s is opt_in', (k) => expect(classifyKeyword(k)).toBe('opt_in'));
  it.each(HELP)('%s is help', (k) => expect(classifyKeyword(k)).toBe('help'));

  it.each([
    ['Stop', 'opt_out'],
    [' stop. ', 'opt_out'],
    ['STOP!', 'opt_out'],
    ['stop!!!', 'opt_out'],
    ['"stop"', 'opt_out'],
    ['Stop 🛑', 'opt_out'],
    ['\n\tSTOP\r\n', 'opt_out'],
    [`${' '.repeat(1000)}stop${' '.repeat(1000)}`, 'opt_out'],
    ['opt out', 'opt_out'],
    ['Opt-Out', 'opt_out'],
    ['OPT   OUT', 'opt_out'],
    ['opt_out', 'opt_out'],
    ['stop all', 'opt_out'],
    ['Unsubscribe.', 'opt_out'],
    ['start', 'opt_in'],
    ['Start!', 'opt_in'],
    ['unstop', 'opt_in'],
    ['help?', 'help'],
    ['Info.', 'help'],
    ['¿help?', 'help'],
  ])('%j → %s', (body, kind) => {
    expect(classifyKeyword(body)).toBe(kind);
  });

  it.each([
    ['stop by at 5'],
    ['please stop'],
    ['STOP STOP'],
    ['can you help'],
    ['help me'],
    ['start time?'],
    ['YES'],
    ['yes'],
    ['Y'],
    ['NO'],
    ['ok'],
    [''],
    ['   '],
    ['...'],
    ['stopp'],
    ['st op'],
    ['S.T.O.P'],
    ['opt in'],
    ['__proto__'],
    ['constructor'],
    ['hasOwnProperty'],
    ['stop'.repeat(1000)],
    [`stop${'!'.repeat(100)}`],
  ])('%j → null', (body) => {
    expect(classifyKeyword(body)).toBeNull();
  });

  it('does not treat look-alike unicode letters as keywords', () => {
    expect(classifyKeyword('ЅТОР')).toBeNull(); // Cyrillic
  });

  it('property: any keyword surrounded by other words is not a keyword', () => {
    const keyword = fc.constantFrom(...OPT_OUT, ...OPT_IN, ...HELP, 'opt out', 'stop all');
    const word = fc.stringMatching(/^[a-z]{1,8}$/).filter((w) => w !== 'all' && w !== 'opt');
    const words = fc.array(word, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(
        keyword,
        words,
        words,
        fc.boolean(),
        fc.boolean(),
        (k, before, after, useBefore, useAfter) => {
          fc.pre(useBefore || useAfter);
          const parts = [...(useBefore ? before : []), k, ...(useAfter ? after : [])];
          expect(classifyKeyword(parts.join(' '))).toBeNull();
        },
      ),
    );
  });

  it('property: surrounding punctuation, whitespace and case never change the result', () => {
    const keyword = fc.constantFrom(...OPT_OUT, ...OPT_IN, ...HELP);
    const edge = fc.stringMatching(/^[ .!?,;:"'\n\t]{0,4}$/);
    fc.assert(
      fc.property(keyword, edge, edge, fc.boolean(), (k, a, b, lower) => {
        const body = `${a}${lower ? k.toLowerCase() : k}${b}`;
        expect(classifyKeyword(body)).toBe(classifyKeyword(k));
      }),
    );
  });
});

describe('normalizeKeywordBody', () => {
  it('trims edges, collapses separators and upper-cases', () => {
    expect(normalizeKeywordBody('  opt -  out!! ')).toBe('OPT OUT');
    expect(normalizeKeywordBody('Stop by at 5.')).toBe('STOP BY AT 5');
  });
});
