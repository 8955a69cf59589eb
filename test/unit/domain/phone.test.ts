import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isE164, MAX_PHONE_INPUT_LENGTH, maskPhone, parseE164 } from '../../../src/domain/phone.ts';

describe('parseE164', () => {
  it.each([
    ['+13105551212', '+13105551212'],
    ['(310) 555-1212', '+13105551212'],
    ['310.555.1212', '+13105551212'],
    ['1 310 555 1212', '+13105551212'],
    ['  +1 (213) 373-4253  ', '+12133734253'],
    ['+15005550006', '+15005550006'],
    ['+44 20 7946 0958', '+442079460958'],
    [`${' '.repeat(MAX_PHONE_INPUT_LENGTH)}+13105551212\n`, '+13105551212'],
  ])('normalises %j to %s', (input, expected) => {
    expect(parseE164(input)).toBe(expected);
  });

  it('uses the default country for national numbers', () => {
    expect(parseE164('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(parseE164('020 7946 0958')).toBeNull();
  });

  it('ignores the default country when the number is international', () => {
    expect(parseE164('+13105551212', 'GB')).toBe('+13105551212');
  });

  it.each([
    [''],
    ['   '],
    ['__proto__'],
    ['constructor'],
    ['toString'],
    ['hello'],
    ['+1310555121'], // too short
    ['+1 800 FLOWERS'],
    ['+0 310 555 1212'],
    ['310 555 1212 ext. 5'],
    ['+1 310 555 1212 x55'],
    ['555-1212'],
    ['+1'],
    ['+'],
    ['<script>alert(1)</script>'],
    ['1'.repeat(10_000)],
    [`+1310555121${'2'.repeat(MAX_PHONE_INPUT_LENGTH)}`],
  ])('refuses %j', (input) => {
    expect(parseE164(input)).toBeNull();
  });

  it('accepts unicode digits but always returns ASCII', () => {
    expect(parseE164('１３１０５５５１２１２')).toBe('+13105551212'); // full-width
    expect(parseE164('٣١٠٥٥٥١٢١٢')).toBe('+13105551212'); // Arabic-Indic
  });

  it('returns null for an unknown default country instead of throwing', () => {
    expect(parseE164('3105551212', 'XX')).toBeNull();
    expect(parseE164('3105551212', '__proto__')).toBeNull();
    expect(parseE164('+13105551212', 'XX')).toBeNull();
  });

  it('refuses non-string input at runtime', () => {
    expect(parseE164(undefined as unknown as string)).toBeNull();
    expect(parseE164(13105551212 as unknown as string)).toBeNull();
  });

  it('property: any string either yields null or a canonical E.164 that parses to itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const out = parseE164(s);
        if (out === null) return;
        expect(out).toMatch(/^\+[1-9]\d{1,14}$/);
        expect(parseE164(out)).toBe(out);
      }),
    );
  });

  it('property: formatted US numbers with separators normalise to the same E.164', () => {
    const sep = fc.constantFrom('', ' ', '-', '.');
    fc.assert(
      fc.property(sep, sep, fc.boolean(), (a, b, paren) => {
        const area = paren ? '(310)' : '310';
        expect(parseE164(`${area}${a}555${b}1212`)).toBe('+13105551212');
      }),
    );
  });
});

describe('isE164', () => {
  it('is true only for canonical valid numbers', () => {
    expect(isE164('+13105551212')).toBe(true);
    expect(isE164('+442079460958')).toBe(true);
    expect(isE164('13105551212')).toBe(false);
    expect(isE164('+1 310 555 1212')).toBe(false);
    expect(isE164('+1310555121')).toBe(false);
    expect(isE164('+19999999999')).toBe(false); // right shape, not a real plan
    expect(isE164('')).toBe(false);
    expect(isE164('__proto__')).toBe(false);
    expect(isE164(null)).toBe(false);
    expect(isE164(42)).toBe(false);
    expect(isE164({ toString: () => '+13105551212' })).toBe(false);
  });
});

describe('maskPhone', () => {
  it('keeps the country code and the last 4 digits', () => {
    expect(maskPhone('+13105551212')).toBe('+1•••1212');
    expect(maskPhone('+442079460958')).toBe('+44•••0958');
  });

  it('has a fixed-width mask so the length is not revealed', () => {
    expect(maskPhone('+13105551212').length).toBe(maskPhone('+12133734253').length);
  });

  it('masks everything that is not a valid E.164 number, never echoing it', () => {
    for (const bad of ['', '3105551212', '+1 310 555 1212', '__proto__', 'secret-token', '+1310555121']) {
      expect(maskPhone(bad)).toBe('•••');
    }
  });

  it('property: never contains the full national number', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2_000_000, max: 9_999_999 }),
        fc.constantFrom('213', '310', '415', '646'),
        (n, area) => {
          const e164 = parseE164(`+1${area}${n}`);
          if (e164 === null) return;
          const masked = maskPhone(e164);
          expect(masked).not.toContain(`${area}${n}`);
          expect(masked.endsWith(e164.slice(-4))).toBe(true);
        },
      ),
    );
  });
});
