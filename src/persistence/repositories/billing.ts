import { isSubscriptionStatus, type SubscriptionStatus } from '../../domain/feature-gates.ts';
import type { StoredSubscription } from '../../domain/subscription-events.ts';
import type { Queryable } from '../db.ts';

// The billing module's tables (bill_*): the tenant's Stripe customer, the mirror of its
// subscriptions, the checkout sessions it started. Times are Unix seconds on the way in and out of
// the subscription mirror, as Stripe sends them.

export type SubscriptionRow = StoredSubscription & {
  tenantId: string;
  stripeSubscriptionId: string;
};

type RawSubscription = {
  tenant_id: string;
  stripe_subscription_id: string;
  plan: string | null;
  status: string;
  current_period_end: number | null;
  past_due_since: number | null;
  stripe_created: number;
  stripe_event_created: number;
};

const SUBSCRIPTION_COLUMNS = `tenant_id, stripe_subscription_id, plan, status,
  extract(epoch FROM current_period_end)::bigint AS current_period_end,
  extract(epoch FROM past_due_since)::bigint AS past_due_since,
  stripe_created, stripe_event_created`;

function toSubscription(row: RawSubscription): SubscriptionRow {
  if (!isSubscriptionStatus(row.status)) throw new Error(`unknown subscription status ${row.status}`);
  return {
    tenantId: row.tenant_id,
    stripeSubscriptionId: row.stripe_subscription_id,
    plan: row.plan,
    status: row.status as SubscriptionStatus,
    currentPeriodEnd: row.current_period_end,
    pastDueSince: row.past_due_since,
    stripeCreated: row.stripe_created,
    stripeEventCreated: row.stripe_event_created,
  };
}

/**
 * Claims and locks the tenant's customer row (inside a transaction): concurrent callers wait here
 * until the first one has stored the customer it created. Returns the stored id, or null when the
 * caller must create the customer and call setStripeCustomer before committing.
 */
export async function lockStripeCustomer(db: Queryable, tenantId: string): Promise<string | null> {
  await db.query('INSERT INTO bill_customers (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [tenantId]);
  const { rows } = await db.query<{ stripe_customer_id: string | null }>(
    'SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1 FOR UPDATE',
    [tenantId],
  );
  return rows[0]?.stripe_customer_id ?? null;
}

export async function setStripeCustomer(db: Queryable, tenantId: string, customerId: string): Promise<void> {
  await db.query('UPDATE bill_customers SET stripe_customer_id = $2 WHERE tenant_id = $1', [
    tenantId,
    customerId,
  ]);
}

/**
 * The tenant a Stripe customer belongs to, locking its customer row (inside a transaction) so that
 * the events of one tenant are applied one at a time.
 */
export async function lockTenantByStripeCustomer(db: Queryable, customerId: string): Promise<string | null> {
  const { rows } = await db.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM bill_customers WHERE stripe_customer_id = $1 FOR UPDATE',
    [customerId],
  );
  return rows[0]?.tenant_id ?? null;
}

export async function findTenantByStripeCustomer(db: Queryable, customerId: string): Promise<string | null> {
  const { rows } = await db.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM bill_customers WHERE stripe_customer_id = $1',
    [customerId],
  );
  return rows[0]?.tenant_id ?? null;
}

/** Every mirrored subscription of the tenant, the most recently created first. */
export async function listSubscriptions(db: Queryable, tenantId: string): Promise<SubscriptionRow[]> {
  const { rows } = await db.query<RawSubscription>(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM bill_subscriptions WHERE tenant_id = $1
     ORDER BY stripe_created DESC, stripe_event_created DESC, stripe_subscription_id`,
    [tenantId],
  );
  return rows.map(toSubscription);
}

export async function findSubscription(
  db: Queryable,
  tenantId: string,
  subscriptionId: string,
): Promise<SubscriptionRow | null> {
  const { rows } = await db.query<RawSubscription>(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM bill_subscriptions WHERE tenant_id = $1 AND stripe_subscription_id = $2`,
    [tenantId, subscriptionId],
  );
  return rows[0] ? toSubscription(rows[0]) : null;
}

export async function saveSubscription(
  db: Queryable,
  tenantId: string,
  subscriptionId: string,
  state: StoredSubscription,
): Promise<void> {
  await db.query(
    `INSERT INTO bill_subscriptions (tenant_id, stripe_subscription_id, plan, status, current_period_end,
       past_due_since, stripe_created, stripe_event_created, updated_at)
     VALUES ($1, $2, $3, $4, to_timestamp($5::double precision), to_timestamp($6::double precision), $7, $8, now())
     ON CONFLICT (tenant_id, stripe_subscription_id) DO UPDATE SET
       plan = EXCLUDED.plan, status = EXCLUDED.status, current_period_end = EXCLUDED.current_period_end,
       past_due_since = EXCLUDED.past_due_since, stripe_created = EXCLUDED.stripe_created,
       stripe_event_created = EXCLUDED.stripe_event_created, updated_at = now()`,
    [
      tenantId,
      subscriptionId,
      state.plan,
      state.status,
      state.currentPeriodEnd,
      state.pastDueSince,
      state.stripeCreated,
      state.stripeEventCreated,
    ],
  );
}

export async function recordCheckoutSession(
  db: Queryable,
  tenantId: string,
  sessionId: string,
  plan: string,
): Promise<void> {
  await db.query(
    `INSERT INTO bill_checkout_sessions (tenant_id, stripe_session_id, plan) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    [tenantId, sessionId, plan],
  );
}

/** The tenant's Stripe customer, if one was stored. */
export async function findStripeCustomerId(db: Queryable, tenantId: string): Promise<string | null> {
  const { rows } = await db.query<{ stripe_customer_id: string | null }>(
    'SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.stripe_customer_id ?? null;
}
