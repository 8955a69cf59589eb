import { sameGates } from '../domain/feature-gates.ts';
import {
  isUnorderedConflict,
  nextSubscription,
  type SubscriptionChange,
} from '../domain/subscription-events.ts';
import type { Logger } from '../observability/logger.ts';
import { inTransaction, type Pool, type PoolClient } from '../persistence/db.ts';
import {
  findSubscription,
  findTenantByStripeCustomer,
  listSubscriptions,
  lockTenantByStripeCustomer,
  saveSubscription,
} from '../persistence/repositories/billing.ts';
import { claimWebhook } from '../persistence/repositories/housekeeping.ts';
import type { StripeClient } from '../providers/stripe/client.ts';
import {
  type BillingEvent,
  readSubscription,
  type SubscriptionSnapshot,
} from '../providers/stripe/events.ts';
import { billingStateOf } from './billing-gates.ts';
import { writeOutboxEvents } from './outbox.ts';

// Applies a verified Stripe event to the subscription mirror, in ONE transaction with its dedupe
// claim (webhook_events) and its outbox event: delivered twice, or twice at once, it has one effect.
// The tenant's customer row is locked first, so the events of one tenant apply one at a time and
// nmc.billing.GatesChanged is written exactly when the tenant's gates change.
//
// Webhook first, ask Stripe when the events cannot tell: an invoice event for a subscription never
// seen, or two events with the same `created` that disagree, make us fetch the subscription itself.

export type BillingEventsDeps = { db: Pool; stripe?: StripeClient; logger?: Logger };
export type BillingEventOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unknown_customer';

async function fetchSubscription(stripe: StripeClient, id: string): Promise<SubscriptionSnapshot | null> {
  try {
    return readSubscription(await stripe.subscriptions.retrieve(id));
  } catch (err) {
    if ((err as { code?: string }).code === 'resource_missing') return null;
    throw err;
  }
}

async function applyChange(
  client: PoolClient,
  input: {
    tenantId: string;
    subscriptionId: string;
    change: SubscriptionChange;
    created: number;
    fetched: boolean;
    correlationId: string;
    causationId: string;
  },
): Promise<{ outcome: 'applied' | 'unchanged'; conflict: boolean }> {
  const now = new Date();
  const subscriptions = await listSubscriptions(client, input.tenantId);
  const before = billingStateOf(subscriptions, now);
  const stored = subscriptions.find((s) => s.stripeSubscriptionId === input.subscriptionId) ?? null;
  const next = nextSubscription(stored, input.change, input.created, { fetched: input.fetched });
  const conflict = !input.fetched && isUnorderedConflict(stored, input.change, input.created);
  if (next === null) return { outcome: 'unchanged', conflict };

  await saveSubscription(client, input.tenantId, input.subscriptionId, next);
  const after = billingStateOf(await listSubscriptions(client, input.tenantId), now);
  if (!sameGates(before.gates, after.gates)) {
    await writeOutboxEvents(client, [
      {
        tenantId: input.tenantId,
        name: 'nmc.billing.GatesChanged',
        payload: {
          sms: after.gates.sms,
          assistant: after.gates.assistant,
          status: after.primary?.status ?? 'none',
          plan: after.primary?.plan ?? null,
        },
        occurredAt: now.toISOString(),
        correlationId: input.correlationId,
        causationId: input.causationId,
      },
    ]);
  }
  return { outcome: 'applied', conflict: false };
}

export async function applyBillingEvent(
  deps: BillingEventsDeps,
  event: BillingEvent,
  context: { correlationId: string },
): Promise<BillingEventOutcome> {
  // Customers we did not create (another product on the same Stripe account) are none of our business.
  const tenantId = await findTenantByStripeCustomer(deps.db, event.customerId);
  if (tenantId === null) return 'unknown_customer';

  let change = event.change;
  if (change.kind !== 'snapshot' && deps.stripe) {
    const stored = await findSubscription(deps.db, tenantId, event.subscriptionId);
    if (stored === null) {
      const fetched = await fetchSubscription(deps.stripe, event.subscriptionId);
      if (fetched !== null && fetched.customerId === event.customerId) change = fetched.change;
    }
  }

  const result = await inTransaction(deps.db, async (client) => {
    const locked = await lockTenantByStripeCustomer(client, event.customerId);
    if (locked === null) return { outcome: 'unknown_customer' as const, conflict: false };
    if (!(await claimWebhook(client, { provider: 'stripe', key: event.eventId, tenantId: locked }))) {
      return { outcome: 'duplicate' as const, conflict: false };
    }
    return applyChange(client, {
      tenantId: locked,
      subscriptionId: event.subscriptionId,
      change,
      created: event.created,
      fetched: false,
      correlationId: context.correlationId,
      causationId: event.eventId,
    });
  });

  if (result.conflict && deps.stripe) {
    // The event is committed (and acknowledged); a failure here leaves the stored state, which the
    // next event or the reconciliation job corrects.
    await refreshSubscription(deps, deps.stripe, event, context).catch((err: unknown) =>
      deps.logger?.warn({ err, event: event.eventId }, 'stripe subscription refresh failed'),
    );
  }
  return result.outcome;
}

async function refreshSubscription(
  deps: BillingEventsDeps,
  stripe: StripeClient,
  event: BillingEvent,
  context: { correlationId: string },
): Promise<void> {
  const fetched = await fetchSubscription(stripe, event.subscriptionId);
  if (fetched === null || fetched.customerId !== event.customerId) return;
  await inTransaction(deps.db, async (client) => {
    const locked = await lockTenantByStripeCustomer(client, event.customerId);
    if (locked === null) return;
    await applyChange(client, {
      tenantId: locked,
      subscriptionId: event.subscriptionId,
      change: fetched.change,
      created: event.created,
      fetched: true,
      correlationId: context.correlationId,
      causationId: event.eventId,
    });
  });
}

/**
 * Applies Stripe's current copy of a subscription to the mirror (reconciliation and backfill: the
 * provider's state, fetched, wins over what the events told us). Returns whether anything changed.
 */
export async function syncSubscriptionFromStripe(
  deps: { db: Pool },
  subscription: unknown,
  context: { correlationId: string },
): Promise<'applied' | 'unchanged' | 'unknown_customer'> {
  const fetched = readSubscription(subscription);
  if (fetched === null) return 'unchanged';
  return inTransaction(deps.db, async (client) => {
    const tenantId = await lockTenantByStripeCustomer(client, fetched.customerId);
    if (tenantId === null) return 'unknown_customer';
    const result = await applyChange(client, {
      tenantId,
      subscriptionId: fetched.subscriptionId,
      change: fetched.change,
      created: Math.floor(Date.now() / 1000),
      fetched: true,
      correlationId: context.correlationId,
      causationId: context.correlationId,
    });
    return result.outcome;
  });
}
