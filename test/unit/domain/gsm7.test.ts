import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGsm7, smsEncoding, smsSegments } from '../../../src/domain/gsm7.ts';

describe('isGsm7', () => {
  it('accepts the basic and extension tables', () => {
    expect(isGsm7('Hi! Your drain cleaning is booked for Tue 10:00. Reply STOP to opt out.')).toBe(true);
    expect(isGsm7('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà')).toBe(true);
    expect(isGsm7('^{}\\[~]|€\f')).toBe(true);
    expect(isGsm7('')).toBe(true);
  });

  it.each([['😀'], ['ç'], ['’'], ['“quoted”'], ['—'], ['Привет'], ['中文'], ['`'], ['\u00a0']])(
    'refuses %j',
    (s) => {
      expect(isGsm7(s)).toBe(false);
    },
  );
});

describe('smsSegments', () => {
  it('counts an empty text as 0 segments', () => {
    expect(smsSegments('')).toBe(0);
  });

  it('fits 160 GSM-7 characters in one segment, then 153 per part', () => {
    expect(smsSegments('a'.repeat(160))).toBe(1);
    expect(smsSegments('a'.repeat(161))).toBe(2);
    expect(smsSegments('a'.repeat(306))).toBe(2);
    expect(smsSegments('a'.repeat(307))).toBe(3);
    expect(smsSegments('a'.repeat(459))).toBe(3);
    expect(smsSegments('a'.repeat(460))).toBe(4);
  });

  it('counts extension characters as 2 septets', () => {
    expect(smsSegments('€'.repeat(80))).toBe(1);
    expect(smsSegments('€'.repeat(81))).toBe(2);
    expect(smsSegments(`${'a'.repeat(159)}€`)).toBe(2);
    expect(smsEncoding('€')).toBe('GSM-7');
  });

  it('never splits an escape sequence across parts', () => {
    // 152 septets then "€" (2): does not fit the first 153-septet part, moves whole to the second.
    expect(smsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toBe(3);
    expect(smsSegments(`${'a'.repeat(151)}€${'a'.repeat(153)}`)).toBe(2);
  });

  it('switches to UCS-2 for any non-GSM character: 70 units, then 67', () => {
    expect(smsSegments('ç'.repeat(70))).toBe(1);
    expect(smsSegments('ç'.repeat(71))).toBe(2);
    expect(smsSegments('ç'.repeat(134))).toBe(2);
    expect(smsSegments('ç'.repeat(135))).toBe(3);
    expect(smsSegments(`${'a'.repeat(100)}’`)).toBe(2);
    expect(smsEncoding('’')).toBe('UCS-2');
  });

  it('counts emoji (surrogate pairs) as 2 units', () => {
    expect(smsSegments('😀'.repeat(35))).toBe(1);
    expect(smsSegments('😀'.repeat(36))).toBe(2);
    expect(smsSegments(`Thanks! ${'a'.repeat(60)}👍`)).toBe(1); // 8 + 60 + 2 = 70
    expect(smsSegments(`Thanks! ${'a'.repeat(61)}👍`)).toBe(2);
  });

  it('never splits a surrogate pair across parts', () => {
    // 66 units then an emoji (2) does not fit 67: the emoji starts part 2 (134 units, 3 parts).
    expect(smsSegments(`${'ç'.repeat(66)}😀${'ç'.repeat(66)}`)).toBe(3);
    expect(smsSegments(`${'ç'.repeat(65)}😀${'ç'.repeat(67)}`)).toBe(2);
  });

  it('counts an emoji with a skin-tone modifier as two pairs (4 units)', () => {
    expect(smsSegments('👍🏽'.repeat(17))).toBe(1); // 68
    expect(smsSegments('👍🏽'.repeat(18))).toBe(2); // 72
  });

  it('property: GSM-7 texts without extension chars take ceil(n/153) parts beyond 160', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (n) => {
        const expected = n <= 160 ? 1 : Math.ceil(n / 153);
        expect(smsSegments('x'.repeat(n))).toBe(expected);
      }),
    );
  });

  it('property: segments grow monotonically as text grows and cover the units', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.string({ maxLength: 5 }),
        (s, extra) => {
          const a = smsSegments(s);
          const b = smsSegments(s + extra);
          if (smsEncoding(s) === smsEncoding(s + extra)) expect(b).toBeGreaterThanOrEqual(a);
          if (s.length > 0) expect(a).toBeGreaterThanOrEqual(1);
          if (smsEncoding(s) === 'UCS-2') expect(a * 70).toBeGreaterThanOrEqual(s.length);
        },
      ),
    );
  });
});
