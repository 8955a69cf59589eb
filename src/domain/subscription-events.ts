import type { SubscriptionStatus } from './feature-gates.ts';

// How a Stripe event moves the stored mirror of one subscription. Pure: times are Unix seconds, as
// Stripe sends them.
//
// What must stay true:
// - Only a newer event moves the mirror (its `created` strictly after the last applied one's); an
//   older or equally old one changes nothing, so out-of-order or repeated delivery never moves a
//   subscription back.
// - canceled and incomplete_expired are final at Stripe: nothing brings that subscription back (a
//   customer who returns gets a new subscription).
// - past_due_since is set when the subscription becomes past_due and kept while it stays so; any
//   other status clears it.

export type StoredSubscription = {
  plan: string | null;
  status: SubscriptionStatus;
  currentPeriodEnd: number | null;
  pastDueSince: number | null;
  stripeCreated: number;
  stripeEventCreated: number;
};

export type SubscriptionChange =
  /** customer.subscription.created / updated / deleted: the subscription object as Stripe sent it. */
  | {
      kind: 'snapshot';
      plan: string | null;
      status: SubscriptionStatus;
      currentPeriodEnd: number | null;
      stripeCreated: number;
    }
  /** invoice.payment_failed */
  | { kind: 'payment_failed' }
  /** invoice.paid */
  | { kind: 'paid' };

const FINAL: ReadonlySet<SubscriptionStatus> = new Set(['canceled', 'incomplete_expired']);
const PAYING: ReadonlySet<SubscriptionStatus> = new Set(['active', 'trialing', 'past_due']);

/** The new stored state, or null when the event changes nothing. */
export function nextSubscription(
  stored: StoredSubscription | null,
  change: SubscriptionChange,
  eventCreated: number,
  options: { fetched?: boolean } = {},
): StoredSubscription | null {
  // A subscription fetched from Stripe is its current state whatever the events said, so it is
  // applied even when its time equals the last event's; it never moves the mirror back in time.
  if (stored !== null && !options.fetched && eventCreated <= stored.stripeEventCreated) return null;
  if (stored !== null && FINAL.has(stored.status)) return null;

  if (change.kind === 'snapshot') {
    const next: StoredSubscription = {
      plan: change.plan ?? stored?.plan ?? null,
      status: change.status,
      currentPeriodEnd: change.currentPeriodEnd ?? stored?.currentPeriodEnd ?? null,
      pastDueSince: change.status === 'past_due' ? (stored?.pastDueSince ?? eventCreated) : null,
      stripeCreated: change.stripeCreated,
      stripeEventCreated: Math.max(eventCreated, stored?.stripeEventCreated ?? eventCreated),
    };
    return stored !== null && sameSubscription(stored, next) ? null : next;
  }
  // Invoice events say nothing about a subscription we have never seen; the caller fetches it first.
  if (stored === null) return null;
  if (change.kind === 'payment_failed' && PAYING.has(stored.status)) {
    return {
      ...stored,
      status: 'past_due',
      pastDueSince: stored.pastDueSince ?? eventCreated,
      stripeEventCreated: eventCreated,
    };
  }
  if (change.kind === 'paid' && stored.status === 'past_due') {
    return { ...stored, status: 'active', pastDueSince: null, stripeEventCreated: eventCreated };
  }
  // Still newer: remembering it keeps an older event, delivered late, from undoing what it saw.
  return { ...stored, stripeEventCreated: eventCreated };
}

/**
 * Two events with the same `created` (Stripe's clock has one-second resolution: created → updated
 * within a second is common) cannot be ordered. The stored state is kept, but when the event
 * disagrees with it the caller asks Stripe for the subscription (nextSubscription with `fetched`).
 */
export function isUnorderedConflict(
  stored: StoredSubscription | null,
  change: SubscriptionChange,
  eventCreated: number,
): boolean {
  if (stored === null || eventCreated !== stored.stripeEventCreated || FINAL.has(stored.status)) return false;
  if (change.kind === 'snapshot')
    return change.status !== stored.status || (change.plan ?? stored.plan) !== stored.plan;
  if (change.kind === 'payment_failed') return PAYING.has(stored.status) && stored.status !== 'past_due';
  return stored.status === 'past_due';
}

function sameSubscription(a: StoredSubscription, b: StoredSubscription): boolean {
  return (
    a.plan === b.plan &&
    a.status === b.status &&
    a.currentPeriodEnd === b.currentPeriodEnd &&
    a.pastDueSince === b.pastDueSince &&
    a.stripeCreated === b.stripeCreated &&
    a.stripeEventCreated === b.stripeEventCreated
  );
}
