import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { readBillingEvent } from '../../providers/stripe/events.ts';
import { applyBillingEvent } from '../../runtime/billing-events.ts';
import { completeOnboarding, readOnboardingCheckout } from '../../runtime/onboarding/complete-onboarding.ts';
import type { AppDeps } from '../app.ts';

// Stripe's webhook. The signature covers the exact bytes Stripe sent, so this plugin keeps the raw
// body: its own JSON parser (scoped to this plugin's context, the rest of the app is untouched)
// hands the handler a Buffer. The signature is checked before anything else; a bad or missing one
// gets 403 and writes nothing. The 2xx is sent only after the effect has committed, so a failure
// makes Stripe retry, and the retry is deduplicated by the event id.

const received = z.object({ received: z.literal(true) }).meta({ example: { received: true } });

// Read as raw bytes (the signature covers them), so the schema is documentation: any JSON passes it.
const stripeEvent = z
  .unknown()
  .describe(
    'A Stripe event object, exactly as Stripe sent it: the raw bytes are checked against Stripe-Signature before they are read',
  )
  .meta({
    example: {
      id: 'evt_1Example',
      object: 'event',
      type: 'customer.subscription.updated',
      data: { object: { id: 'sub_1Example', object: 'subscription', status: 'active' } },
    },
  });

/** Stripe's own tolerance for an old signature, applied to one from the future too (a clock far ahead, or a pre-signed replay). */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

function signedInTheFuture(header: string, nowSeconds: number): boolean {
  const stamp = /(?:^|,)\s*t=(\d{1,12})(?:,|$)/.exec(header)?.[1];
  return stamp !== undefined && Number(stamp) > nowSeconds + STRIPE_SIGNATURE_TOLERANCE_SECONDS;
}

export function stripeWebhookRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });

    app.post(
      '/webhooks/stripe',
      {
        schema: {
          tags: ['stripe'],
          summary: 'Stripe events (subscriptions, invoices); signed with Stripe-Signature',
          operationId: 'receiveStripeEvent',
          consumes: ['application/json'],
          body: stripeEvent,
          response: { 200: received },
        },
      },
      async (request) => {
        const stripe = deps.stripe;
        if (!stripe) throw new AppError('unavailable', 'billing is not configured');
        const body = request.body;
        const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
        const header = request.headers['stripe-signature'];
        const signature = typeof header === 'string' ? header : '';
        if (signedInTheFuture(signature, Math.floor(Date.now() / 1000))) {
          throw new AppError('signature_invalid', 'the Stripe-Signature timestamp is in the future');
        }
        let event: unknown;
        try {
          event = stripe.client.webhooks.constructEvent(
            raw,
            signature,
            stripe.webhookSecret,
            STRIPE_SIGNATURE_TOLERANCE_SECONDS,
          );
        } catch (err) {
          // constructEvent parses only after the signature matched: a SyntaxError is a signed body
          // that is not JSON.
          if (err instanceof SyntaxError) throw new AppError('malformed_body', 'the body is not valid JSON');
          throw new AppError('signature_invalid', 'the Stripe-Signature header is missing or wrong');
        }

        // A paid onboarding checkout makes its tenant first, so the subscription's own events
        // (which may come before or after this one) find the tenant's customer.
        const onboarding = readOnboardingCheckout(event);
        if (onboarding && deps.provisioning) {
          const completed = await completeOnboarding(
            { db: deps.db, boss: deps.provisioning.boss, stripe: stripe.client, logger: deps.logger },
            onboarding,
            { correlationId: request.id },
          );
          request.log.info(
            { event_type: 'checkout.session.completed', outcome: completed },
            'onboarding checkout',
          );
          return { received: true as const };
        }
        const read = readBillingEvent(event);
        if (read.kind === 'malformed') throw new AppError('validation_failed', read.reason);
        if (read.kind === 'ignored') return { received: true as const };
        const outcome = await applyBillingEvent(
          { db: deps.db, stripe: stripe.client, logger: deps.logger },
          read.event,
          { correlationId: request.id },
        );
        request.log.info({ event_type: read.event.type, outcome }, 'stripe event');
        return { received: true as const };
      },
    );
  };
}
