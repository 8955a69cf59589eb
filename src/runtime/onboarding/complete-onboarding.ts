import type { PgBoss } from 'pg-boss';
import { z } from 'zod';
import { PLANS } from '../../domain/feature-gates.ts';
import { fallbackSlug } from '../../domain/onboarding/draft.ts';
import type { Logger } from '../../observability/logger.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { lockStripeCustomer, setStripeCustomer } from '../../persistence/repositories/billing.ts';
import { findDraft, markDraftComplete } from '../../persistence/repositories/onboarding.ts';
import { findTenantByAuthOrg, findTenantBySlug } from '../../persistence/repositories/tenants.ts';
import { upsertUserOnSight } from '../../persistence/repositories/users.ts';
import type { StripeClient } from '../../providers/stripe/client.ts';
import { syncSubscriptionFromStripe } from '../billing-events.ts';
import { provisionTenantIn } from '../provisioning/provision-tenant.ts';
import { ONBOARDING_ORG_METADATA } from './start-checkout.ts';

// Stripe says an onboarding checkout is paid (checkout.session.completed): the draft becomes a
// tenant — the one whose id the draft chose — with its desired state and convergence job, the
// Stripe customer the checkout used, and the person who onboarded as its OWNER, all in one
// transaction with the draft's completion. A second delivery finds the draft complete and does
// nothing. The subscription is then read from Stripe into the mirror, so the gates are right
// whichever order Stripe's events arrive in.

export type CompletionDeps = {
  db: Pool;
  boss: Pick<PgBoss, 'send'>;
  stripe: StripeClient;
  logger: Pick<Logger, 'info' | 'warn'>;
};

export type CompletionOutcome = 'created' | 'duplicate' | 'not_onboarding' | 'conflict';

const completedSession = z.looseObject({
  id: z.string().min(1).max(255),
  customer: z.string().min(1).max(255),
  subscription: z.string().min(1).max(255).nullish(),
  payment_status: z.string().nullish(),
  metadata: z.looseObject({
    [ONBOARDING_ORG_METADATA]: z.string().min(1).max(200),
    tenant_id: z.uuid(),
    plan: z.enum(PLANS),
  }),
});

const eventShape = z.looseObject({
  type: z.literal('checkout.session.completed'),
  data: z.looseObject({ object: z.unknown() }),
});

/** The onboarding checkout a verified Stripe event completes, or null (another event, or another checkout). */
export function readOnboardingCheckout(event: unknown): z.infer<typeof completedSession> | null {
  const envelope = eventShape.safeParse(event);
  if (!envelope.success) return null;
  const session = completedSession.safeParse(envelope.data.data.object);
  return session.success ? session.data : null;
}

export async function completeOnboarding(
  deps: CompletionDeps,
  session: z.infer<typeof completedSession>,
  context: { correlationId: string },
): Promise<CompletionOutcome> {
  const org = session.metadata[ONBOARDING_ORG_METADATA];
  const tenantId = session.metadata.tenant_id;
  const plan = session.metadata.plan;
  const outcome = await inTransaction(deps.db, async (client): Promise<CompletionOutcome> => {
    const draft = await findDraft(client, org, true);
    if (!draft || draft.tenantId !== tenantId) return 'not_onboarding';
    if (draft.completedAt) return 'duplicate';
    if (!draft.name || !draft.slug || !draft.timeZone || !draft.forwardingPhone) return 'not_onboarding';
    if (await findTenantByAuthOrg(client, org)) return 'conflict';
    // The slug was free when checkout began; if a business took it since, this one still gets its
    // account, under a suffixed slug (the owner can see it in the draft and on their booking page).
    const slug = (await findTenantBySlug(client, draft.slug))
      ? fallbackSlug(draft.slug, tenantId)
      : draft.slug;
    await provisionTenantIn(
      client,
      deps.boss,
      {
        id: tenantId,
        slug,
        name: draft.name,
        time_zone: draft.timeZone,
        auth_org_id: org,
        forwarding_phone: draft.forwardingPhone,
        twilio_number: draft.twilioNumber ?? undefined,
        plan,
        template: draft.template ?? undefined,
      },
      `onboarding:${draft.startedBy}`,
    );
    if ((await lockStripeCustomer(client, tenantId)) === null)
      await setStripeCustomer(client, tenantId, session.customer);
    await upsertUserOnSight(client, { tenantId, subject: draft.startedBy, email: null, role: 'OWNER' });
    await markDraftComplete(client, org, { at: new Date(), slug, plan });
    return 'created';
  });
  if (outcome === 'conflict')
    deps.logger.warn(
      { org, tenant_id: tenantId },
      'onboarding checkout paid for an organisation that already has a tenant',
    );
  if (outcome === 'created' && session.subscription) {
    // Committed already; a failure here leaves the mirror to the subscription's own events.
    await deps.stripe.subscriptions
      .retrieve(session.subscription)
      .then((subscription) => syncSubscriptionFromStripe(deps, subscription, context))
      .catch((err: unknown) =>
        deps.logger.warn({ err, tenant_id: tenantId }, 'onboarding: subscription not mirrored yet'),
      );
  }
  return outcome;
}
