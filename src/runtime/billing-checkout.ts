import { AppError } from '../domain/errors.ts';
import type { Plan } from '../domain/feature-gates.ts';
import { inTransaction, type Pool } from '../persistence/db.ts';
import {
  lockStripeCustomer,
  recordCheckoutSession,
  setStripeCustomer,
} from '../persistence/repositories/billing.ts';
import { findTenantById } from '../persistence/repositories/tenants.ts';
import type { StripeClient } from '../providers/stripe/client.ts';

// An OWNER starts paying: the tenant's Stripe customer (created once), then a Checkout Session for
// a plan, or a billing-portal session to manage what it has. The subscription itself arrives later
// through the webhook; nothing here changes the gates.
//
// What must stay true:
// - One Stripe customer per tenant, even under concurrent calls: the tenant's bill_customers row is
//   claimed and locked while the customer is created, and Stripe's own Idempotency-Key (per tenant)
//   covers a crash between Stripe's answer and our commit.
// - Prices live in Stripe, found by lookup key `nmc_<plan>`, so prices change without a deploy.

export type BillingCheckoutDeps = { db: Pool; stripe: StripeClient };

export function stripeUnavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('unavailable', 'Stripe could not be reached; try again', { cause: err });
}

/** The id of the plan's active price (lookup key `nmc_<plan>`), or null when Stripe has none. */
export async function findPlanPriceId(stripe: StripeClient, plan: string): Promise<string | null> {
  const prices = await stripe.prices.list({ lookup_keys: [`nmc_${plan}`], active: true, limit: 1 });
  return prices.data[0]?.id ?? null;
}

/** One key per tenant for creating its Stripe customer, shared by checkout, onboarding and convergence. */
export function customerIdempotencyKey(tenantId: string): string {
  return `nmc-customer-${tenantId}`;
}

export async function ensureStripeCustomer(deps: BillingCheckoutDeps, tenantId: string): Promise<string> {
  return inTransaction(deps.db, async (client) => {
    const existing = await lockStripeCustomer(client, tenantId);
    if (existing !== null) return existing;
    const tenant = await findTenantById(client, tenantId);
    const customer = await deps.stripe.customers
      .create(
        { ...(tenant ? { name: tenant.name } : {}), metadata: { tenant_id: tenantId } },
        { idempotencyKey: customerIdempotencyKey(tenantId) },
      )
      .catch((err: unknown) => {
        throw stripeUnavailable(err);
      });
    await setStripeCustomer(client, tenantId, customer.id);
    return customer.id;
  });
}

export async function startCheckout(
  deps: BillingCheckoutDeps,
  input: { tenantId: string; plan: Plan; successUrl: string; cancelUrl: string },
): Promise<{ url: string; sessionId: string }> {
  const customer = await ensureStripeCustomer(deps, input.tenantId);
  let session: { id: string; url: string | null };
  try {
    const price = await findPlanPriceId(deps.stripe, input.plan);
    if (!price) throw new AppError('unavailable', `the ${input.plan} plan has no price in Stripe yet`);
    const metadata = { tenant_id: input.tenantId, plan: input.plan };
    session = await deps.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer,
      client_reference_id: input.tenantId,
      line_items: [{ price, quantity: 1 }],
      subscription_data: { metadata },
      metadata,
      success_url: input.successUrl,
      cancel_url: input.cancelUrl,
    });
  } catch (err) {
    throw stripeUnavailable(err);
  }
  if (!session.url) throw new AppError('unavailable', 'Stripe returned no checkout URL');
  await recordCheckoutSession(deps.db, input.tenantId, session.id, input.plan);
  return { url: session.url, sessionId: session.id };
}

export async function openBillingPortal(
  deps: BillingCheckoutDeps,
  input: { tenantId: string; returnUrl: string },
): Promise<{ url: string }> {
  const customer = await ensureStripeCustomer(deps, input.tenantId);
  try {
    const session = await deps.stripe.billingPortal.sessions.create({
      customer,
      return_url: input.returnUrl,
    });
    return { url: session.url };
  } catch (err) {
    throw stripeUnavailable(err);
  }
}
