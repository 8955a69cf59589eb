import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { understand } from '../../../../src/domain/understanding/understand.ts';
import type { UnderstandContext } from '../../../../src/domain/understanding/understanding.ts';

// Thursday Dec 3 2026 09:00 Los Angeles. Offers: Fri 13:00, Fri 15:00 (1 pm and 3 pm, so a bare
// "1" or "3" could be misread as an hour).
const context: UnderstandContext = {
  now: '2026-12-03T17:00:00Z',
  timeZone: 'America/Los_Angeles',
  trade: 'plumbing',
  catalog: [],
  offered: [{ start: '2026-12-04T21:00:00Z' }, { start: '2026-12-04T23:00:00Z' }],
};

describe('choices among offered times', () => {
  it('reads a bare number as the option number, never as the hour', () => {
    expect(understand('fine. 1', context)).toMatchObject({ intent: 'choice', choice: 0 });
    expect(understand('#2', context)).toMatchObject({ intent: 'choice', choice: 1 });
    expect(understand('option 2 please', context)).toMatchObject({ intent: 'choice', choice: 1 });
  });

  it('reads a number with a time word as the hour of an offer', () => {
    expect(understand('at 3', context)).toMatchObject({ intent: 'choice', choice: 1 });
    expect(understand('the 1pm one', context)).toMatchObject({ intent: 'choice', choice: 0 });
  });

  it('reads a number beyond the options as the hour of one offer, else as nothing', () => {
    expect(understand('3', context)).toMatchObject({ intent: 'choice', choice: 1 });
    expect(understand('4', context).choice).toBeNull();
  });

  it('picks nothing for a time that is not on offer', () => {
    expect(understand('the 10am one', context).choice).toBeNull();
    expect(understand('third one', context).choice).toBeNull();
  });

  it('never answers a choice outside the offers, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 3 }), (text, count) => {
        const offered = context.offered.slice(0, count);
        const u = understand(text, { ...context, offered });
        return (
          u.choice === null || (Number.isInteger(u.choice) && u.choice >= 0 && u.choice < offered.length)
        );
      }),
      { numRuns: 300 },
    );
  });

  it('reports a choice only as the intent choice', () => {
    expect(understand('can i talk to someone first', context)).toMatchObject({
      intent: 'person',
      choice: null,
    });
  });
});
