import { describe, expect, it } from 'vitest';
import { understand } from '../../../../src/domain/understanding/understand.ts';
import type { UnderstandContext } from '../../../../src/domain/understanding/understanding.ts';

// Thursday Dec 3 2026, 09:00 in Los Angeles; offers Fri 08:00, Fri 10:00, Mon 14:00 local.
const context: UnderstandContext = {
  now: '2026-12-03T17:00:00Z',
  timeZone: 'America/Los_Angeles',
  trade: 'plumbing',
  catalog: [
    { id: 'drain', name: 'Drain cleaning', aliases: ['clogged drain'] },
    { id: 'heater', name: 'Water heater repair', aliases: ['no hot water', 'water heater'] },
    { id: 'toilet', name: 'Toilet repair', aliases: [] },
  ],
  offered: [],
};
const offering: UnderstandContext = {
  ...context,
  offered: [
    { start: '2026-12-04T16:00:00Z' },
    { start: '2026-12-04T18:00:00Z' },
    { start: '2026-12-07T22:00:00Z' },
  ],
};

describe('understand', () => {
  it('maps an everyday description to the service of that kind, not to one sharing a word', () => {
    expect(understand("kitchen sink is clogged and the water won't go down", context).services[0]?.id).toBe(
      'drain',
    );
    expect(understand('toilet is leaking at the base', context).services[0]?.id).toBe('toilet');
    const burst = understand('pipe burst under the kitchen sink, water everywhere!!', context);
    expect(burst.intent).toBe('emergency');
    expect(burst.services.map((s) => s.id)).not.toContain('heater');
  });

  it('says another trade is out of scope', () => {
    const u = understand('can you fix my AC?', context);
    expect(u.intent).toBe('out_of_scope');
    expect(u.outOfScope).not.toBeNull();
  });

  it('reads a bare number as the option on offer, never as an hour', () => {
    expect(understand('fine. 1', offering)).toMatchObject({ intent: 'choice', choice: 0 });
    expect(understand('2 is fine', offering)).toMatchObject({ intent: 'choice', choice: 1 });
    expect(understand('4', offering).choice).toBeNull();
  });

  it('resolves "the 10am one" against the offers in the business zone', () => {
    expect(understand('the 10am one', offering)).toMatchObject({ intent: 'choice', choice: 1 });
  });

  it('reads times relative to the context, not the machine clock', () => {
    expect(understand('can you come tomorrow at 3pm?', context)).toMatchObject({
      intent: 'time',
      time: { date: '2026-12-04', at: '15:00' },
    });
    expect(understand('anytime after 2', context).time).toMatchObject({ after: '14:00', date: null });
    expect(understand('do you have anything next week?', context).time).toMatchObject({
      date: '2026-12-07',
      until: '2026-12-13',
    });
  });

  it('takes 👍 as yes', () => {
    expect(understand('👍', offering).intent).toBe('yes');
  });

  it('acts on a booking only in words, never on the bare carrier keyword', () => {
    expect(understand('need to cancel, something came up', context).intent).toBe('cancel');
    expect(understand('CANCEL', context).intent).toBe('unknown');
  });
});
