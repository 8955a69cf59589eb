import { describe, expect, it } from 'vitest';
import {
  type HintContext,
  type ReplyStep,
  replyHintSchema,
  validHint,
} from '../../../src/domain/reply-hint.ts';
import { HOSTILE_STRINGS } from '../machines/conversation-fixtures.ts';

// What a language model may suggest, and when the machine may act on it.

const CATALOG_IDS = ['svc-drain', 'svc-heater', 'svc-toilet'];
const STEPS: readonly ReplyStep[] = ['idle', 'choosingService', 'offering', 'confirming', 'booked'];

function at(
  step: ReplyStep,
  offeredCount = step === 'offering' || step === 'confirming' ? 3 : 0,
): HintContext {
  return { catalogIds: CATALOG_IDS, offeredCount, step };
}

describe('replyHintSchema', () => {
  it('accepts the documented shape', () => {
    expect(replyHintSchema.parse({ intent: 'service', service_id: 'svc-drain' })).toEqual({
      intent: 'service',
      service_id: 'svc-drain',
    });
    expect(replyHintSchema.parse({ intent: 'pick', pick: 3 })).toEqual({ intent: 'pick', pick: 3 });
    for (const intent of ['yes', 'no', 'change', 'cancel', 'other'])
      expect(replyHintSchema.safeParse({ intent }).success).toBe(true);
  });

  it.each([
    ['an extra key (a composed reply)', { intent: 'yes', reply: 'Great, see you then!' }],
    ['an unknown intent', { intent: 'book' }],
    ['a pick of 0', { intent: 'pick', pick: 0 }],
    ['a pick of 4', { intent: 'pick', pick: 4 }],
    ['a pick as a string', { intent: 'pick', pick: '2' }],
    ['a fractional pick', { intent: 'pick', pick: 1.5 }],
    ['an empty service id', { intent: 'service', service_id: '' }],
    ['a huge service id', { intent: 'service', service_id: 'x'.repeat(201) }],
    ['a numeric service id', { intent: 'service', service_id: 7 }],
    ['null slots', { intent: 'service', service_id: null }],
    ['no intent', {}],
    ['an array', [{ intent: 'yes' }]],
    ['a string', 'yes'],
    ['null', null],
    ['a __proto__ key', JSON.parse('{"intent":"yes","__proto__":{"polluted":true}}')],
  ])('refuses %s', (_label, value) => {
    expect(replyHintSchema.safeParse(value).success).toBe(false);
    expect(validHint(value, at('confirming'))).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('validHint', () => {
  it('accepts a service of the catalog at any step, and refuses one that is not in it', () => {
    for (const step of STEPS) {
      expect(validHint({ intent: 'service', service_id: 'svc-heater' }, at(step))).toBe(true);
      expect(validHint({ intent: 'service', service_id: 'svc-gutter' }, at(step))).toBe(false);
    }
    expect(validHint({ intent: 'service' }, at('idle'))).toBe(false);
    expect(validHint({ intent: 'service', service_id: 'svc-drain' }, { ...at('idle'), catalogIds: [] })).toBe(
      false,
    );
  });

  it('refuses hostile service ids, prototype keys included', () => {
    for (const id of HOSTILE_STRINGS)
      expect(validHint({ intent: 'service', service_id: id }, at('idle')), JSON.stringify(id)).toBe(false);
  });

  it('accepts a pick only among the times on offer', () => {
    expect(validHint({ intent: 'pick', pick: 1 }, at('offering'))).toBe(true);
    expect(validHint({ intent: 'pick', pick: 3 }, at('confirming'))).toBe(true);
    expect(validHint({ intent: 'pick', pick: 3 }, at('offering', 2))).toBe(false);
    expect(validHint({ intent: 'pick', pick: 2 }, at('offering', 2))).toBe(true);
    expect(validHint({ intent: 'pick' }, at('offering'))).toBe(false);
    for (const step of ['idle', 'choosingService', 'booked'] as const) {
      expect(validHint({ intent: 'pick', pick: 1 }, at(step))).toBe(false);
      // Even if the caller of validHint passed a count by mistake, nothing is on offer at these steps.
      expect(validHint({ intent: 'pick', pick: 1 }, at(step, 3))).toBe(false);
    }
  });

  it('accepts yes/no only while a time is held, change while held or booked, cancel once booked', () => {
    const allowed: Record<string, readonly ReplyStep[]> = {
      yes: ['confirming'],
      no: ['confirming'],
      change: ['confirming', 'booked'],
      cancel: ['booked'],
      other: [],
    };
    for (const [intent, steps] of Object.entries(allowed))
      for (const step of STEPS)
        expect(validHint({ intent }, at(step)), `${intent} at ${step}`).toBe(steps.includes(step));
  });

  it('refuses slots that belong to another intent', () => {
    expect(validHint({ intent: 'yes', pick: 1 }, at('confirming'))).toBe(false);
    expect(validHint({ intent: 'pick', pick: 1, service_id: 'svc-drain' }, at('offering'))).toBe(false);
    expect(validHint({ intent: 'service', service_id: 'svc-drain', pick: 2 }, at('offering'))).toBe(false);
    expect(validHint({ intent: 'other', service_id: 'svc-drain' }, at('idle'))).toBe(false);
  });
});
