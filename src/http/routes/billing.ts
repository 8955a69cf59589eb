import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { PLANS, SUBSCRIPTION_STATUSES } from '../../domain/feature-gates.ts';
import { openBillingPortal, startCheckout } from '../../runtime/billing-checkout.ts';
import { readBillingState } from '../../runtime/billing-gates.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { instant } from '../schemas.ts';

// The OWNER's billing: what the tenant pays for and may use, and the two ways to change it (a
// Stripe Checkout Session for a plan, the Stripe billing portal). The subscription itself only ever
// changes through the Stripe webhook.

const httpUrl = z.url({ protocol: /^https?$/ }).max(2000);
/** A Checkout Session's request: the plan, and where Stripe sends the browser back to. */
export const checkoutBody = z
  .object({ plan: z.enum(PLANS), success_url: httpUrl.optional(), cancel_url: httpUrl.optional() })
  .strict();
const billing = z
  .object({
    plan: z.string().nullable(),
    status: z.enum(['none', ...SUBSCRIPTION_STATUSES]),
    current_period_end: instant.nullable(),
    gates: z.object({ sms: z.boolean(), assistant: z.boolean() }),
  })
  .meta({ id: 'Billing' });

export function billingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const stripeOf = () => {
      if (!deps.stripe) throw new AppError('unavailable', 'billing is not configured');
      return deps.stripe.client;
    };

    app.get(
      '/api/v1/billing',
      {
        config: { action: 'billing.manage' },
        schema: {
          tags: ['billing'],
          summary: "The tenant's plan, subscription status and feature gates",
          security: [{ bearer: [] }],
          response: { 200: billing },
        },
      },
      async (request) => {
        const { primary, gates } = await readBillingState(deps.db, tenantOf(request), new Date());
        return {
          plan: primary?.plan ?? null,
          status: primary?.status ?? ('none' as const),
          current_period_end:
            primary?.currentPeriodEnd == null
              ? null
              : new Date(primary.currentPeriodEnd * 1000).toISOString(),
          gates,
        };
      },
    );

    app.post(
      '/api/v1/billing/checkout',
      {
        config: { action: 'billing.manage', audit: true },
        schema: {
          tags: ['billing'],
          summary: 'Start a Stripe Checkout Session for a plan',
          operationId: 'createCheckoutSession',
          security: [{ bearer: [] }],
          body: checkoutBody,
          response: { 201: z.object({ url: z.string(), session_id: z.string() }) },
        },
      },
      async (request, reply) => {
        const base = deps.config.PUBLIC_BASE_URL;
        const session = await startCheckout(
          { db: deps.db, stripe: stripeOf() },
          {
            tenantId: tenantOf(request),
            plan: request.body.plan,
            successUrl: request.body.success_url ?? `${base}/?billing=success`,
            cancelUrl: request.body.cancel_url ?? `${base}/?billing=canceled`,
          },
        );
        return reply.code(201).send({ url: session.url, session_id: session.sessionId });
      },
    );

    app.post(
      '/api/v1/billing/portal',
      {
        config: { action: 'billing.manage', audit: true },
        schema: {
          tags: ['billing'],
          summary: 'Open the Stripe billing portal (payment method, invoices, cancellation)',
          operationId: 'createPortalSession',
          security: [{ bearer: [] }],
          body: z.object({ return_url: httpUrl.optional() }).strict().optional(),
          response: { 201: z.object({ url: z.string() }) },
        },
      },
      async (request, reply) => {
        const portal = await openBillingPortal(
          { db: deps.db, stripe: stripeOf() },
          {
            tenantId: tenantOf(request),
            returnUrl: request.body?.return_url ?? `${deps.config.PUBLIC_BASE_URL}/`,
          },
        );
        return reply.code(201).send(portal);
      },
    );
  };
}
