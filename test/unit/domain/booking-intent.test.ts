import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretReply, type Offered, pickFrom, type Reply } from '../../../src/domain/booking-intent.ts';

const LA = 'America/Los_Angeles';

// Tue 2025-03-04 10:00, Tue 2025-03-04 14:00 and Wed 2025-03-05 09:00 in Los Angeles (PST, UTC-8).
const OFFERED: readonly Offered[] = [
  { start: '2025-03-04T18:00:00.000Z' },
  { start: '2025-03-04T22:00:00.000Z' },
  { start: '2025-03-05T17:00:00.000Z' },
];

// Around the spring-forward change (Sun 2025-03-09 02:00 PST → 03:00 PDT): 10:00 local on Saturday
// (PST, 18:00 UTC), Sunday (PDT, 17:00 UTC) and Monday (PDT, 17:00 UTC).
const SPRING: readonly Offered[] = [
  { start: '2025-03-08T18:00:00Z' },
  { start: '2025-03-09T17:00:00Z' },
  { start: '2025-03-10T17:00:00Z' },
];

const reply = (text: string, offered: readonly Offered[] = OFFERED, timeZone = LA): Reply =>
  interpretReply(text, offered, timeZone);

const pick = (index: number): Reply => ({ kind: 'pick', index });

describe('yes and no', () => {
  it.each([
    'yes',
    'Yes',
    'YES',
    'y',
    'Y',
    'yes please',
    'Yes!',
    'yes.',
    '  yes  ',
    'yeah',
    'yep',
    'yup',
    'ok',
    'OK',
    'okay',
    'sure',
    'confirm',
    'Confirmed',
    'book it',
    'sounds good',
    'perfect',
    'great, thanks',
    'ｙｅｓ', // full-width, NFKC
  ])('%j is yes', (text) => {
    expect(reply(text)).toEqual({ kind: 'yes' });
    // Without offered times too (the confirm step offers none to pick from).
    expect(reply(text, [])).toEqual({ kind: 'yes' });
  });

  it.each(['no', 'No', 'NO', 'n', 'nope', 'nah', 'no thanks', 'No, tuesday', 'not really', 'no!'])(
    '%j is no',
    (text) => {
      expect(reply(text)).toEqual({ kind: 'no' });
    },
  );

  it.each(['yesterday', 'yessir', 'nothing', 'nobody home', 'okra', 'I said yes', 'maybe', 'dunno'])(
    '%j is neither (only a reply that starts with a yes/no word counts)',
    (text) => {
      expect(reply(text)).toEqual({ kind: 'other' });
    },
  );

  it('a time wins over a leading yes or no', () => {
    expect(reply('yes 2pm')).toEqual(pick(1));
    expect(reply('ok, tuesday at 2pm')).toEqual(pick(1));
    // "no 3" reads as "number 3".
    expect(reply('no 3')).toEqual(pick(2));
  });
});

describe('cancel and change', () => {
  it.each([
    'cancel my appointment',
    'CANCEL APPOINTMENT',
    'Please cancel my appointment.',
    'cancel it',
    'cancel that',
    'cancel the booking',
    'can you cancel the visit',
    'my appointment, cancel please',
    'booking cancelled?',
    'cancel it and find another time',
  ])('%j is cancel', (text) => {
    expect(reply(text)).toEqual({ kind: 'cancel' });
    expect(reply(text, [])).toEqual({ kind: 'cancel' });
  });

  it.each(['cancel', 'CANCEL', ' Cancel ', 'cancel!', 'I want to cancel', 'cancellation'])(
    '%j alone is not a cancel intent (bare CANCEL is a carrier opt-out keyword)',
    (text) => {
      expect(reply(text)).not.toEqual({ kind: 'cancel' });
      expect(reply(text)).toEqual({ kind: 'other' });
    },
  );

  it.each([
    'change',
    'CHANGE',
    'can I change it',
    'change my appointment',
    'reschedule',
    'I need to reschedule please',
    'another time',
    'a different time?',
    'some other time',
    'move it to friday',
    'cancel and reschedule',
  ])('%j is change', (text) => {
    expect(reply(text)).toEqual({ kind: 'change' });
  });

  it('change wins over a pick in the same text', () => {
    expect(reply('change to 2pm')).toEqual({ kind: 'change' });
  });
});

describe('picks by number', () => {
  it.each([
    ['1', 0],
    ['2', 1],
    ['3', 2],
    ['#2', 1],
    ['# 2', 1],
    ['2.', 1],
    ['(3)', 2],
    ['option 3', 2],
    ['Option #1', 0],
    ['number 2', 1],
    ['the second', 1],
    ['second one please', 1],
    ['2nd', 1],
    ['first', 0],
    ['the 1st', 0],
    ['third', 2],
    ['3rd one', 2],
    ['last', 2],
    ['the last one', 2],
    ['latest', 2],
  ])('%j picks option %i', (text, index) => {
    expect(reply(text)).toEqual(pick(index));
  });

  it('"last" is the last of what was offered', () => {
    expect(reply('last', OFFERED.slice(0, 2))).toEqual(pick(1));
    expect(reply('last', OFFERED.slice(0, 1))).toEqual(pick(0));
  });

  it.each(['0', '4', '9', 'option 4', '#5'])('%j is out of range: no pick', (text) => {
    expect(reply(text)).toEqual({ kind: 'other' });
  });

  it('an ordinal past what was offered is no pick', () => {
    expect(reply('third', OFFERED.slice(0, 2))).toEqual({ kind: 'other' });
    expect(reply('3', OFFERED.slice(0, 2))).toEqual({ kind: 'other' });
  });

  it('nothing offered: no pick at all', () => {
    for (const text of ['1', '#2', 'the second', 'last', '10am', 'tue 10']) {
      expect(reply(text, [])).toEqual({ kind: 'other' });
      expect(pickFrom(text, [], LA)).toBeNull();
    }
  });
});

describe('picks by time (local time of the tenant)', () => {
  it.each([
    ['10', 0],
    ['10am', 0],
    ['10 am', 0],
    ['10:00', 0],
    ['10a', 0],
    ['2pm', 1],
    ['2 pm', 1],
    ['2:00pm', 1],
    ['14:00', 1],
    ['9am', 2],
    ['9:00', 2],
    ['tue 10', 0],
    ['Tue 10am', 0],
    ['tuesday at 2pm', 1],
    ['Tuesday 14:00', 1],
    ['tues 2', 1],
    ['wed', 2],
    ['Wednesday works', 2],
    ['wednesday 9', 2],
    ['10 works for me', 0],
  ])('%j picks option %i', (text, index) => {
    expect(reply(text)).toEqual(pick(index));
  });

  it('reads times in the given zone, not UTC', () => {
    // 10:00 in Los Angeles is 18:00 UTC: "18:00" is no offered local time there.
    expect(reply('18:00')).toEqual({ kind: 'other' });
    expect(reply('18:00', OFFERED, 'UTC')).toEqual(pick(0));
    expect(reply('10am', OFFERED, 'UTC')).toEqual({ kind: 'other' });
    expect(reply('tue 1pm', OFFERED, 'America/New_York')).toEqual(pick(0));
  });

  it.each([
    ['tue', 'two Tuesdays'],
    ['tuesday', 'two Tuesdays'],
    ['thursday', 'no Thursday'],
    ['11am', 'no 11:00'],
    ['10pm', 'no 22:00'],
    ['2am', 'no 02:00'],
    ['10:30', 'no 10:30'],
    ['wed 10', 'no Wednesday 10:00'],
    ['tue 9', 'no Tuesday 09:00'],
    ['25:00', 'no such hour'],
    ['10:75', 'no such minute'],
  ])('%j is no pick (%s)', (text) => {
    expect(reply(text)).toEqual({ kind: 'other' });
  });

  it('across the spring-forward change, each day reads 10:00 local', () => {
    expect(reply('sat 10', SPRING)).toEqual(pick(0));
    expect(reply('sunday 10am', SPRING)).toEqual(pick(1));
    expect(reply('mon 10:00', SPRING)).toEqual(pick(2));
    // All three are at 10:00 local: the hour alone is ambiguous.
    expect(reply('10', SPRING)).toEqual({ kind: 'other' });
    expect(reply('10am', SPRING)).toEqual({ kind: 'other' });
    // Read naively with the PST offset, Sunday's 17:00 UTC would be 09:00.
    expect(reply('sun 9', SPRING)).toEqual({ kind: 'other' });
    // An hour that exists only after the change (03:30 PDT on the Sunday).
    const early: Offered[] = [{ start: '2025-03-09T10:30:00Z' }, { start: '2025-03-09T17:00:00Z' }];
    expect(reply('3:30am', early)).toEqual(pick(0));
    expect(reply('sun 10', early)).toEqual(pick(1));
  });

  it('across the fall-back change, the repeated 01:30 is ambiguous', () => {
    // Sun 2025-11-02 01:30 PDT (08:30 UTC) and 01:30 PST (09:30 UTC).
    const twice: Offered[] = [{ start: '2025-11-02T08:30:00Z' }, { start: '2025-11-02T09:30:00Z' }];
    expect(reply('1:30am', twice)).toEqual({ kind: 'other' });
    expect(reply('sun 1:30am', twice)).toEqual({ kind: 'other' });
    expect(reply('first', twice)).toEqual(pick(0));
    expect(reply('last', twice)).toEqual(pick(1));
  });

  it('an hour without am/pm below 7 reads as the afternoon first', () => {
    const both: Offered[] = [{ start: '2025-03-04T10:00:00Z' }, { start: '2025-03-04T22:00:00Z' }]; // 02:00, 14:00
    expect(reply('tue 2', both)).toEqual({ kind: 'other' }); // both 02:00 and 14:00 fit: ambiguous
    expect(reply('tue 2pm', both)).toEqual(pick(1));
    expect(reply('tue 2am', both)).toEqual(pick(0));
  });
});

describe('hostile input', () => {
  const HOSTILE = [
    '',
    ' ',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '{business}',
    'null',
    'undefined',
    '🔧🚰',
    '👍',
    '👨‍👩‍👧‍👦🏳️‍🌈',
    'Zoë ñandú',
    'مرحبا \u202e gnp.exe',
    '\u0000\u200b\ufeff',
    '"quoted"\n\'line\'\r\n\t<script>',
    'x'.repeat(1600),
    '🔧'.repeat(800),
    'cancel '.repeat(230),
    '1'.repeat(1600),
  ];

  it.each(HOSTILE.map((s) => [JSON.stringify(s).slice(0, 40), s]))(
    '%s is "other" and does not throw',
    (_, text) => {
      for (const offered of [OFFERED, [], SPRING]) {
        expect(interpretReply(text, offered, LA)).toEqual({ kind: 'other' });
      }
    },
  );

  it('punctuation is dropped before reading: "$&$1$$" reads as option 1', () => {
    expect(reply('$&$1$$')).toEqual(pick(0));
  });

  it('an unknown time zone makes no time pick, and does not throw', () => {
    for (const zone of ['Mars/Olympus', '__proto__', '']) {
      expect(reply('tue 10', OFFERED, zone)).toEqual({ kind: 'other' });
      expect(reply('2', OFFERED, zone)).toEqual(pick(1));
    }
  });

  it('emoji around a real answer do not hide it', () => {
    expect(reply('👍 yes')).toEqual({ kind: 'yes' });
    expect(reply('2 🙏')).toEqual(pick(1));
    expect(reply('cancel my appointment 😞')).toEqual({ kind: 'cancel' });
  });
});

describe('properties', () => {
  const word = fc.constantFrom(
    'yes',
    'no',
    'ok',
    'cancel',
    'appointment',
    'change',
    'the',
    'second',
    'last',
    'option',
    '#',
    'tue',
    'tuesday',
    'sun',
    'at',
    'am',
    'pm',
    ':',
    '__proto__',
    '🔧',
  );
  const words = fc
    .array(fc.oneof(word, fc.integer({ min: 0, max: 99 }).map(String)), { maxLength: 6 })
    .map((w) => w.join(' '));
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    words,
    fc.string({ unit: 'binary', maxLength: 1600 }),
  );
  // Up to five starts on the quarter hour within two years around DST changes.
  const offered = fc.array(
    fc
      .integer({ min: 0, max: 2 * 365 * 24 * 4 })
      .map((q) => ({ start: new Date(Date.UTC(2025, 0, 1) + q * 15 * 60_000).toISOString() })),
    { maxLength: 5 },
  );
  const zone = fc.constantFrom(
    LA,
    'UTC',
    'America/New_York',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Nowhere/Land',
  );

  it('never throws, always answers one of the kinds, and a pick is always within what was offered', () => {
    fc.assert(
      fc.property(text, offered, zone, (t, o, z) => {
        const r = interpretReply(t, o, z);
        expect(['yes', 'no', 'cancel', 'change', 'pick', 'other']).toContain(r.kind);
        if (r.kind === 'pick') {
          expect(Number.isInteger(r.index)).toBe(true);
          expect(r.index).toBeGreaterThanOrEqual(0);
          expect(r.index).toBeLessThan(o.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores case, punctuation around words and surrounding spaces', () => {
    fc.assert(
      fc.property(words, offered, (t, o) => {
        const r = interpretReply(t, o, LA);
        expect(interpretReply(`  ${t.toUpperCase()}!  `, o, LA)).toEqual(r);
      }),
    );
  });

  it('an option number always picks that option when it was offered', () => {
    fc.assert(
      fc.property(
        offered.filter((o) => o.length > 0),
        fc.nat(),
        (o, n) => {
          const index = n % o.length;
          expect(interpretReply(String(index + 1), o, LA)).toEqual(pick(index));
          expect(interpretReply(`#${index + 1}`, o, LA)).toEqual(pick(index));
          expect(interpretReply(`option ${index + 1}`, o, LA)).toEqual(pick(index));
        },
      ),
    );
  });
});
