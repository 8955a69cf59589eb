import { describe, expect, it, vi } from 'vitest';
import type { Understanding } from '../../../src/domain/understanding/understanding.ts';
import type { Effect } from '../../../src/machines/conversation-events.ts';
import { initialSnapshot, step } from '../../../src/machines/conversation-snapshot.ts';
import { makeCatalogFacts, makeEvent, minutes, SLOTS } from './conversation-fixtures.ts';

// A text in a language the templates do not cover, and the tenant's locale: the reading is fixed
// here (the understanding layer is replaced) so the dialogue's decision is what is tested.

const reading: { next: Partial<Understanding> } = { next: {} };

vi.mock('../../../src/domain/understanding/understand.ts', () => ({
  understand: (): Understanding => ({
    intent: 'unknown',
    language: 'en',
    services: [],
    time: null,
    choice: null,
    emergency: false,
    upset: false,
    outOfScope: null,
    ...reading.next,
  }),
}));

const bodies = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === 'sendSms' ? [e.body] : []));
const alerts = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.type === 'notifyOperators' ? [e.reason] : []));

describe('another language', () => {
  it('hands over with a note in English and Spanish, and the reason', () => {
    reading.next = { language: 'other', intent: 'need' };
    const result = step(
      initialSnapshot(),
      makeEvent(
        { type: 'InboundSms', messageSid: 'SM1', body: 'Mon évier est bouché', mediaCount: 0 },
        { at: minutes(1), facts: makeCatalogFacts() },
      ),
    );
    expect(result.state).toBe('human');
    expect(bodies(result.effects)).toEqual([
      'A person from Acme Plumbing will text you shortly. / Una persona le escribira pronto.',
    ]);
    expect(alerts(result.effects)).toEqual(['unsupported_language']);
  });

  it('a bare number or yes needs no language', () => {
    reading.next = { language: 'other', intent: 'choice', choice: 0 };
    const result = step(
      initialSnapshot(),
      makeEvent(
        { type: 'InboundSms', messageSid: 'SM1', body: '1', mediaCount: 0 },
        { at: minutes(1), facts: makeCatalogFacts() },
      ),
    );
    expect(result.state).toBe('open');
    expect(alerts(result.effects)).toEqual([]);
  });
});

describe("the tenant's locale", () => {
  it('en-GB writes offered times day first on a 24-hour clock', () => {
    const facts = makeCatalogFacts({ locale: 'en-GB' });
    reading.next = { intent: 'need', services: [{ id: 'svc-drain', score: 1 }] };
    let snapshot = step(
      initialSnapshot(),
      makeEvent(
        { type: 'InboundSms', messageSid: 'SM1', body: 'drain', mediaCount: 0 },
        { at: minutes(1), facts },
      ),
    ).snapshot;
    const quoted = step(
      snapshot,
      makeEvent({ type: 'SlotsFound', serviceId: 'svc-drain', slots: [...SLOTS] }, { at: minutes(2), facts }),
    );
    snapshot = quoted.snapshot;
    expect(bodies(quoted.effects)[0]).toContain(
      'Open times: 1) Tomorrow 10:00 2) Tomorrow 14:00 3) Wed 5 Mar, 09:00.',
    );
  });
});
