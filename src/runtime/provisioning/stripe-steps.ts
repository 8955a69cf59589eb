import {
  findStripeCustomerId,
  lockStripeCustomer,
  setStripeCustomer,
} from '../../persistence/repositories/billing.ts';
import { customerIdempotencyKey, findPlanPriceId } from '../billing-checkout.ts';
import type { StepResult, StepRun } from './provisioning-deps.ts';

// The Stripe steps: the tenant's customer, its subscription for the desired plan, and the
// cancellation when it closes. Creates carry an Idempotency-Key (Stripe answers a repeated key with
// the first answer), and each step first looks for what an earlier, interrupted attempt made:
// the customer by its tenant_id metadata, the subscription among the customer's.

const ALIVE = new Set(['active', 'trialing', 'past_due', 'incomplete', 'unpaid', 'paused']);

export async function ensureCustomer(run: StepRun): Promise<StepResult> {
  const { stripe, db } = run.deps;
  let customerId = await findStripeCustomerId(db, run.tenantId);
  if (customerId === null) {
    const found = await stripe.customers.search({
      query: `metadata['tenant_id']:'${run.tenantId}'`,
      limit: 1,
    });
    customerId = found.data[0]?.id ?? null;
  }
  if (customerId === null) {
    // The same key as an owner's checkout and onboarding: one customer either way.
    const created = await stripe.customers.create(
      { name: run.desired.name, metadata: { tenant_id: run.tenantId } },
      { idempotencyKey: customerIdempotencyKey(run.tenantId) },
    );
    customerId = created.id;
  }
  const id = customerId;
  return {
    status: 'done',
    outputs: { customer_id: id },
    commit: async (client) => {
      if ((await lockStripeCustomer(client, run.tenantId)) === null)
        await setStripeCustomer(client, run.tenantId, id);
    },
  };
}

async function priceFor(run: StepRun, plan: string): Promise<string> {
  const price = await findPlanPriceId(run.deps.stripe, plan);
  if (!price) throw Object.assign(new Error(`the ${plan} plan has no price in Stripe`), { permanent: true });
  return price;
}

export async function ensureSubscription(run: StepRun): Promise<StepResult> {
  const { stripe } = run.deps;
  const customer = run.input.customer_id as string | null;
  const plan = run.desired.plan;
  if (customer === null) throw Object.assign(new Error('no Stripe customer yet'), { permanent: true });
  const existing = (await stripe.subscriptions.list({ customer, status: 'all', limit: 20 })).data.filter(
    (s) => ALIVE.has(s.status),
  );
  // No plan in the desired state: convergence manages no subscription (one the owner starts
  // through Checkout is theirs; closing the tenant cancels whatever there is).
  if (plan === null)
    return { status: 'done', outputs: { subscription_id: existing[0]?.id ?? null, plan: null } };
  const price = await priceFor(run, plan);
  const current = existing[0];
  if (current) {
    const item = current.items.data[0];
    if (item && item.price.id !== price) {
      await stripe.subscriptions.update(
        current.id,
        { items: [{ id: item.id, price }], metadata: { tenant_id: run.tenantId, plan } },
        { idempotencyKey: `nmc-subscription-${run.tenantId}-v${run.desiredVersion}-update` },
      );
    }
    return { status: 'done', outputs: { subscription_id: current.id, plan } };
  }
  const created = await stripe.subscriptions.create(
    {
      customer,
      items: [{ price }],
      // Staff-provisioned businesses pay by invoice; self-serve ones come through Checkout instead.
      collection_method: 'send_invoice',
      days_until_due: 14,
      metadata: { tenant_id: run.tenantId, plan },
    },
    { idempotencyKey: `nmc-subscription-${run.tenantId}-v${run.desiredVersion}` },
  );
  return { status: 'done', outputs: { subscription_id: created.id, plan } };
}

export async function cancelSubscriptions(run: StepRun): Promise<StepResult> {
  const { stripe } = run.deps;
  const customer = run.outputs('stripe_customer')?.customer_id;
  let canceled = 0;
  if (typeof customer === 'string') {
    const subs = await stripe.subscriptions.list({ customer, status: 'all', limit: 20 });
    for (const s of subs.data.filter((x) => ALIVE.has(x.status))) {
      await stripe.subscriptions.cancel(s.id);
      canceled += 1;
    }
  }
  return { status: 'done', outputs: { canceled } };
}
