import { z } from 'zod';
import { SUBSCRIPTION_STATUSES } from '../../domain/feature-gates.ts';
import type { SubscriptionChange } from '../../domain/subscription-events.ts';

// Maps Stripe's objects (a verified webhook event, or a subscription fetched through the SDK) to
// the billing module's terms. Only what NMC reads is checked; Stripe adds fields all the time.
//
// Decisions:
// - The plan is the subscription's `metadata.plan` (set by our Checkout Session), else the price's
//   `metadata.plan`, else its lookup key without the `nmc_` prefix. An unknown plan opens nothing.
// - The period end is read from the first item (API versions since 2025-03-31) or, for older
//   versions, from the subscription itself.
// - The subscription of an invoice is `parent.subscription_details.subscription`, or `subscription`
//   in older versions.

export const HANDLED_EVENT_TYPES = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.payment_failed',
  'invoice.paid',
] as const;

export type BillingEvent = {
  eventId: string;
  type: (typeof HANDLED_EVENT_TYPES)[number];
  /** Unix seconds. */
  created: number;
  customerId: string;
  subscriptionId: string;
  change: SubscriptionChange;
};

const stripeId = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9_]{1,250}$`));
const expandable = (prefix: string) =>
  z
    .union([stripeId(prefix), z.looseObject({ id: stripeId(prefix) })])
    .transform((v) => (typeof v === 'string' ? v : v.id));
// Up to 9999-12-31T23:59:59Z: beyond it Postgres refuses the timestamp (a malformed event, not a 500).
const unixSeconds = z.number().int().nonnegative().max(253_402_300_799);
const metadata = z.record(z.string(), z.string()).nullish();

const subscriptionObject = z.looseObject({
  id: stripeId('sub'),
  customer: expandable('cus'),
  status: z.enum(SUBSCRIPTION_STATUSES),
  created: unixSeconds,
  current_period_end: unixSeconds.nullish(),
  metadata,
  items: z
    .looseObject({
      data: z.array(
        z.looseObject({
          current_period_end: unixSeconds.nullish(),
          price: z.looseObject({ lookup_key: z.string().nullish(), metadata }).nullish(),
        }),
      ),
    })
    .nullish(),
});

const invoiceObject = z.looseObject({
  customer: expandable('cus'),
  subscription: expandable('sub').nullish(),
  parent: z
    .looseObject({
      subscription_details: z.looseObject({ subscription: expandable('sub') }).nullish(),
    })
    .nullish(),
});

const eventEnvelope = z.looseObject({
  id: z.string().min(1).max(255),
  type: z.string().max(200),
  created: unixSeconds,
  data: z.looseObject({ object: z.unknown() }),
});

function planOf(subscription: z.infer<typeof subscriptionObject>): string | null {
  const price = subscription.items?.data[0]?.price;
  const lookup = price?.lookup_key?.replace(/^nmc_/, '');
  const plan = subscription.metadata?.plan ?? price?.metadata?.plan ?? lookup ?? null;
  return plan !== null && plan.length >= 1 && plan.length <= 100 ? plan : null;
}

export type SubscriptionSnapshot = {
  subscriptionId: string;
  customerId: string;
  change: Extract<SubscriptionChange, { kind: 'snapshot' }>;
};

/** A subscription object (from an event, or fetched), or null if it is not one we can read. */
export function readSubscription(object: unknown): SubscriptionSnapshot | null {
  const parsed = subscriptionObject.safeParse(object);
  if (!parsed.success) return null;
  const s = parsed.data;
  return {
    subscriptionId: s.id,
    customerId: s.customer,
    change: {
      kind: 'snapshot',
      plan: planOf(s),
      status: s.status,
      currentPeriodEnd: s.items?.data[0]?.current_period_end ?? s.current_period_end ?? null,
      stripeCreated: s.created,
    },
  };
}

export type ReadEvent =
  | { kind: 'billing'; event: BillingEvent }
  /** A type NMC does not act on (or an invoice outside any subscription): acknowledged, nothing done. */
  | { kind: 'ignored' }
  | { kind: 'malformed'; reason: string };

export function readBillingEvent(raw: unknown): ReadEvent {
  const envelope = eventEnvelope.safeParse(raw);
  if (!envelope.success) return { kind: 'malformed', reason: 'not a Stripe event' };
  const { id, type, created, data } = envelope.data;
  if (!(HANDLED_EVENT_TYPES as readonly string[]).includes(type)) return { kind: 'ignored' };
  const handled = type as BillingEvent['type'];

  if (handled.startsWith('customer.subscription.')) {
    const snapshot = readSubscription(data.object);
    if (snapshot === null) return { kind: 'malformed', reason: 'unreadable subscription object' };
    // A deleted subscription is canceled, whatever status the object carries.
    const change =
      handled === 'customer.subscription.deleted'
        ? { ...snapshot.change, status: 'canceled' as const }
        : snapshot.change;
    return {
      kind: 'billing',
      event: {
        eventId: id,
        type: handled,
        created,
        customerId: snapshot.customerId,
        subscriptionId: snapshot.subscriptionId,
        change,
      },
    };
  }

  const invoice = invoiceObject.safeParse(data.object);
  if (!invoice.success) return { kind: 'malformed', reason: 'unreadable invoice object' };
  const subscriptionId =
    invoice.data.parent?.subscription_details?.subscription ?? invoice.data.subscription ?? null;
  if (subscriptionId === null) return { kind: 'ignored' };
  return {
    kind: 'billing',
    event: {
      eventId: id,
      type: handled,
      created,
      customerId: invoice.data.customer,
      subscriptionId,
      change: { kind: handled === 'invoice.paid' ? 'paid' : 'payment_failed' },
    },
  };
}
