import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  featuresOf,
  gatesFor,
  gatesForSubscriptions,
  PLANS,
  SUBSCRIPTION_STATUSES,
  type SubscriptionStatus,
} from '../../../src/domain/feature-gates.ts';
import {
  isUnorderedConflict,
  nextSubscription,
  type StoredSubscription,
} from '../../../src/domain/subscription-events.ts';

const NOW = '2026-03-08T17:00:00Z';
const grace = { graceDays: 7 };
const OPEN = { sms: true, assistant: true };
const CLOSED = { sms: false, assistant: false };

describe('featuresOf', () => {
  it('opens what each plan sells and nothing for an unknown plan', () => {
    expect(featuresOf('starter')).toEqual(OPEN);
    expect(featuresOf('pro')).toEqual(OPEN);
    for (const hostile of ['enterprise', '', null, '__proto__', 'constructor', 'toString']) {
      expect(featuresOf(hostile)).toEqual(CLOSED);
    }
  });
});

describe('gatesFor', () => {
  it('active and trialing get the plan', () => {
    expect(gatesFor({ plan: 'starter', status: 'active', pastDueSince: null }, NOW, grace)).toEqual(OPEN);
    expect(gatesFor({ plan: 'pro', status: 'trialing', pastDueSince: null }, NOW, grace)).toEqual(OPEN);
    expect(gatesFor({ plan: 'mystery', status: 'active', pastDueSince: null }, NOW, grace)).toEqual(CLOSED);
  });

  it('past_due keeps the plan during the grace period and closes after it', () => {
    const pastDue = (since: string | null) => ({
      plan: 'starter',
      status: 'past_due' as const,
      pastDueSince: since,
    });
    expect(gatesFor(pastDue('2026-03-01T17:00:01Z'), NOW, grace)).toEqual(OPEN);
    expect(gatesFor(pastDue('2026-03-01T17:00:00Z'), NOW, grace)).toEqual(CLOSED);
    expect(gatesFor(pastDue('2026-01-01T00:00:00Z'), NOW, grace)).toEqual(CLOSED);
    expect(gatesFor(pastDue(null), NOW, grace)).toEqual(OPEN);
    expect(gatesFor(pastDue('not a date'), NOW, grace)).toEqual(CLOSED);
    expect(gatesFor(pastDue('2026-03-07T17:00:00Z'), NOW, { graceDays: 0 })).toEqual(CLOSED);
  });

  it.each(['canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused'] as const)(
    '%s closes everything',
    (status) => {
      expect(gatesFor({ plan: 'pro', status, pastDueSince: null }, NOW, grace)).toEqual(CLOSED);
    },
  );

  it('property: a canceled subscription never opens anything, whatever the plan, date or grace', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...PLANS), fc.string(), fc.constant(null)),
        fc.option(fc.date({ noInvalidDate: true })),
        fc.date({ noInvalidDate: true }),
        fc.integer({ min: 0, max: 10_000 }),
        (plan, since, now, graceDays) => {
          const gates = gatesFor({ plan, status: 'canceled', pastDueSince: since }, now, { graceDays });
          expect(gates).toEqual(CLOSED);
        },
      ),
    );
  });

  it('property: nothing opens a gate the plan does not sell', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...PLANS), fc.string()),
        fc.constantFrom(...SUBSCRIPTION_STATUSES),
        fc.option(fc.date({ noInvalidDate: true })),
        fc.date({ noInvalidDate: true }),
        (plan, status, since, now) => {
          const gates = gatesFor({ plan, status, pastDueSince: since }, now, grace);
          const sold = featuresOf(plan);
          expect(gates.sms && !sold.sms).toBe(false);
          expect(gates.assistant && !sold.assistant).toBe(false);
        },
      ),
    );
  });
});

describe('gatesForSubscriptions', () => {
  it('opens what any subscription grants: an abandoned second checkout does not switch a paying tenant off', () => {
    const paying = { plan: 'starter', status: 'active' as const, pastDueSince: null };
    const abandoned = { plan: 'pro', status: 'incomplete' as const, pastDueSince: null };
    expect(gatesForSubscriptions([paying, abandoned], NOW, grace)).toEqual(OPEN);
    expect(gatesForSubscriptions([abandoned], NOW, grace)).toEqual(CLOSED);
    expect(gatesForSubscriptions([], NOW, grace)).toEqual(CLOSED);
  });
});

describe('nextSubscription', () => {
  const stored = (
    status: SubscriptionStatus,
    eventCreated = 200,
    pastDueSince: number | null = null,
  ): StoredSubscription => ({
    plan: 'starter',
    status,
    currentPeriodEnd: 1_000,
    pastDueSince,
    stripeCreated: 100,
    stripeEventCreated: eventCreated,
  });
  const snapshot = (status: SubscriptionStatus, plan: string | null = 'starter') => ({
    kind: 'snapshot' as const,
    plan,
    status,
    currentPeriodEnd: 2_000,
    stripeCreated: 100,
  });

  it('only a newer event moves the mirror; older or equally old ones change nothing', () => {
    expect(nextSubscription(stored('active'), snapshot('canceled'), 100)).toBeNull();
    expect(nextSubscription(stored('active'), snapshot('unpaid'), 200)).toBeNull();
    expect(nextSubscription(stored('active'), snapshot('unpaid'), 201)?.status).toBe('unpaid');
    expect(nextSubscription(null, snapshot('active'), 5)).toMatchObject({
      status: 'active',
      stripeEventCreated: 5,
    });
  });

  it('canceled is final', () => {
    expect(nextSubscription(stored('canceled'), snapshot('active'), 999)).toBeNull();
    expect(nextSubscription(stored('incomplete_expired'), { kind: 'paid' }, 999)).toBeNull();
  });

  it('payment_failed makes a paying subscription past_due once, keeping the first date', () => {
    expect(nextSubscription(stored('active'), { kind: 'payment_failed' }, 300)).toMatchObject({
      status: 'past_due',
      pastDueSince: 300,
    });
    expect(nextSubscription(stored('past_due', 200, 150), { kind: 'payment_failed' }, 300)).toMatchObject({
      status: 'past_due',
      pastDueSince: 150,
    });
    expect(nextSubscription(stored('paused'), { kind: 'payment_failed' }, 300)).toMatchObject({
      status: 'paused',
      stripeEventCreated: 300,
    });
  });

  it('paid brings past_due back to active; a late payment_failed then changes nothing', () => {
    const paid = nextSubscription(stored('past_due', 200, 150), { kind: 'paid' }, 400);
    expect(paid).toMatchObject({ status: 'active', pastDueSince: null, stripeEventCreated: 400 });
    expect(nextSubscription(paid, { kind: 'payment_failed' }, 300)).toBeNull();
    expect(nextSubscription(stored('active'), { kind: 'paid' }, 300)).toMatchObject({
      status: 'active',
      stripeEventCreated: 300,
    });
  });

  it('an invoice for a subscription never seen changes nothing', () => {
    expect(nextSubscription(null, { kind: 'paid' }, 300)).toBeNull();
  });

  it('a fetched subscription applies at an equal time, and a conflict at an equal time is detected', () => {
    expect(isUnorderedConflict(stored('incomplete'), snapshot('active'), 200)).toBe(true);
    expect(isUnorderedConflict(stored('active'), snapshot('active'), 200)).toBe(false);
    expect(isUnorderedConflict(stored('incomplete'), snapshot('active'), 201)).toBe(false);
    expect(nextSubscription(stored('incomplete'), snapshot('active'), 200, { fetched: true })).toMatchObject({
      status: 'active',
      stripeEventCreated: 200,
    });
  });

  it('property: a replay of any event sequence, in any order, never ends older than the newest event', () => {
    const statuses = fc.constantFrom(...SUBSCRIPTION_STATUSES);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ created: fc.integer({ min: 1, max: 1_000 }), status: statuses }), {
          selector: (e) => e.created,
          minLength: 1,
          maxLength: 8,
        }),
        fc.func(fc.integer()),
        (events, order) => {
          const shuffled = [...events].sort(
            (a, b) => order(a.created) - order(b.created) || a.created - b.created,
          );
          let state: StoredSubscription | null = null;
          for (const e of shuffled) state = nextSubscription(state, snapshot(e.status), e.created) ?? state;
          const newest = Math.max(...events.map((e) => e.created));
          // Either the newest event was applied, or a final status reached earlier stopped everything.
          expect(
            state?.stripeEventCreated === newest ||
              state?.status === 'canceled' ||
              state?.status === 'incomplete_expired',
          ).toBe(true);
        },
      ),
    );
  });
});
