// What a tenant may use, derived from the state of its Stripe subscriptions. Pure: the clock and
// the grace period are arguments.
//
// What must stay true:
// - A subscription that is canceled, unpaid, incomplete, incomplete_expired or paused opens nothing.
// - past_due keeps the plan's features for a grace period (Stripe is still retrying the card), then
//   closes them. An unknown start of past_due counts as "just started".
// - An unknown plan opens nothing: a price we do not sell must not unlock features.

export type Gates = { sms: boolean; assistant: boolean };

export const SUBSCRIPTION_STATUSES = [
  'active',
  'trialing',
  'past_due',
  'canceled',
  'unpaid',
  'incomplete',
  'incomplete_expired',
  'paused',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const PLANS = ['starter', 'pro'] as const;
export type Plan = (typeof PLANS)[number];

/** plan → features. `pro` sells the same gates today; new gates are added here, per plan. */
export const PLAN_FEATURES: Readonly<Record<Plan, Gates>> = {
  starter: { sms: true, assistant: true },
  pro: { sms: true, assistant: true },
};

export const NO_GATES: Gates = { sms: false, assistant: false };
export const ALL_GATES: Gates = { sms: true, assistant: true };
export const DEFAULT_GRACE_DAYS = 7;

export function isPlan(value: unknown): value is Plan {
  return typeof value === 'string' && (PLANS as readonly string[]).includes(value);
}

export function isSubscriptionStatus(value: unknown): value is SubscriptionStatus {
  return typeof value === 'string' && (SUBSCRIPTION_STATUSES as readonly string[]).includes(value);
}

export function featuresOf(plan: string | null): Gates {
  return isPlan(plan) ? { ...PLAN_FEATURES[plan] } : { ...NO_GATES };
}

export type SubscriptionFacts = {
  plan: string | null;
  status: SubscriptionStatus;
  /** When the subscription became past_due (RFC 3339 or Date); null if not past_due or unknown. */
  pastDueSince: string | Date | null;
};

const DAY_MS = 24 * 60 * 60 * 1000;

export function gatesFor(
  subscription: SubscriptionFacts,
  now: string | Date,
  options: { graceDays: number } = { graceDays: DEFAULT_GRACE_DAYS },
): Gates {
  switch (subscription.status) {
    case 'active':
    case 'trialing':
      return featuresOf(subscription.plan);
    case 'past_due': {
      if (subscription.pastDueSince === null) return featuresOf(subscription.plan);
      const since = new Date(subscription.pastDueSince).getTime();
      const at = new Date(now).getTime();
      // An unreadable date must not keep features open forever.
      if (Number.isNaN(since) || Number.isNaN(at)) return { ...NO_GATES };
      return at - since < options.graceDays * DAY_MS ? featuresOf(subscription.plan) : { ...NO_GATES };
    }
    default:
      return { ...NO_GATES };
  }
}

/**
 * A tenant may use a feature when any of its subscriptions grants it: a second, abandoned checkout
 * (incomplete) must not switch off the subscription the tenant pays for.
 */
export function gatesForSubscriptions(
  subscriptions: readonly SubscriptionFacts[],
  now: string | Date,
  options: { graceDays: number } = { graceDays: DEFAULT_GRACE_DAYS },
): Gates {
  const gates = { ...NO_GATES };
  for (const subscription of subscriptions) {
    const one = gatesFor(subscription, now, options);
    gates.sms ||= one.sms;
    gates.assistant ||= one.assistant;
  }
  return gates;
}

export function sameGates(a: Gates, b: Gates): boolean {
  return a.sms === b.sms && a.assistant === b.assistant;
}
