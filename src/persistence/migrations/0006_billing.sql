-- The billing module (bill_*): the tenant's Stripe customer and a mirror of its subscriptions, from
-- which the feature gates are derived (src/domain/feature-gates.ts).

-- One Stripe customer per tenant. The row is claimed (stripe_customer_id NULL) and locked before the
-- customer is created at Stripe, so two concurrent checkouts never create two customers.
CREATE TABLE bill_customers (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  stripe_customer_id text UNIQUE CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9_]{1,250}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);

-- The last state Stripe told us about, per subscription. stripe_event_created is the `created` of
-- the last applied event: an event that is not newer changes nothing (out-of-order delivery).
CREATE TABLE bill_subscriptions (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  stripe_subscription_id text NOT NULL CHECK (stripe_subscription_id ~ '^sub_[A-Za-z0-9_]{1,250}$'),
  plan text CHECK (length(plan) BETWEEN 1 AND 100),
  status text NOT NULL CHECK (status IN (
    'active', 'trialing', 'past_due', 'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused')),
  current_period_end timestamptz,
  past_due_since timestamptz,
  stripe_created bigint NOT NULL,
  stripe_event_created bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, stripe_subscription_id),
  CHECK (past_due_since IS NULL OR status = 'past_due')
);

-- Checkout Sessions started by an OWNER: what was asked for, for support and reconciliation.
CREATE TABLE bill_checkout_sessions (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  stripe_session_id text NOT NULL,
  plan text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, stripe_session_id)
);
