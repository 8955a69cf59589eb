import { AppError } from '../../domain/errors.ts';
import type { Plan } from '../../domain/feature-gates.ts';
import { missingBeforeCheckout } from '../../domain/onboarding/draft.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { findDraft, recordDraftCheckout } from '../../persistence/repositories/onboarding.ts';
import { findTenantBySlug } from '../../persistence/repositories/tenants.ts';
import type { StripeClient } from '../../providers/stripe/client.ts';
import { customerIdempotencyKey, findPlanPriceId, stripeUnavailable } from '../billing-checkout.ts';
import type { Onboarder } from './onboarder.ts';

// The last step of the draft: the plan, paid through a Stripe Checkout Session. The Stripe
// customer is made now, before the tenant exists, under the draft's tenant id (its metadata, and
// the same Idempotency-Key the convergence step uses), so convergence later finds this customer
// instead of making a second one. The tenant itself is made only when Stripe says the checkout is
// complete (src/runtime/onboarding/complete-onboarding.ts).
//
// A second submit (a double click, a retry after a lost answer) gets the same open session back;
// a different plan gets a new session. The draft row stays locked through the Stripe calls, so two
// submits at once make one session.

export type CheckoutDeps = { db: Pool; stripe: StripeClient };

export const ONBOARDING_ORG_METADATA = 'nmc_onboarding_org';

export async function startOnboardingCheckout(
  deps: CheckoutDeps,
  who: Onboarder,
  input: { plan: Plan; successUrl: string; cancelUrl: string },
): Promise<{ url: string; sessionId: string; reused: boolean }> {
  return inTransaction(deps.db, async (client) => {
    const draft = await findDraft(client, who.authOrgId, true);
    if (!draft) throw new AppError('conflict', 'start the onboarding draft first');
    if (draft.completedAt)
      throw new AppError('conflict', 'onboarding is complete; this organisation has a tenant');
    const missing = missingBeforeCheckout(draft);
    if (missing.length > 0)
      throw new AppError(
        'unprocessable',
        `the draft is not ready for checkout: missing ${missing.join(', ')}`,
      );
    if (draft.checkoutSessionId && draft.checkoutUrl && draft.plan === input.plan) {
      return { url: draft.checkoutUrl, sessionId: draft.checkoutSessionId, reused: true };
    }
    if (draft.slug && (await findTenantBySlug(client, draft.slug)))
      throw new AppError('conflict', `the slug ${draft.slug} is taken`);

    const tenantId = draft.tenantId;
    let session: { id: string; url: string | null };
    try {
      const customer = await deps.stripe.customers.create(
        { ...(draft.name ? { name: draft.name } : {}), metadata: { tenant_id: tenantId } },
        { idempotencyKey: customerIdempotencyKey(tenantId) },
      );
      const price = await findPlanPriceId(deps.stripe, input.plan);
      if (!price) throw new AppError('unavailable', `the ${input.plan} plan has no price in Stripe yet`);
      const metadata = { tenant_id: tenantId, plan: input.plan, [ONBOARDING_ORG_METADATA]: who.authOrgId };
      session = await deps.stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customer.id,
        client_reference_id: tenantId,
        line_items: [{ price, quantity: 1 }],
        subscription_data: { metadata: { tenant_id: tenantId, plan: input.plan } },
        metadata,
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
      });
    } catch (err) {
      throw stripeUnavailable(err);
    }
    if (!session.url) throw new AppError('unavailable', 'Stripe returned no checkout URL');
    await recordDraftCheckout(client, who.authOrgId, {
      plan: input.plan,
      sessionId: session.id,
      url: session.url,
    });
    return { url: session.url, sessionId: session.id, reused: false };
  });
}
