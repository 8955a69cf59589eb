import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { PLANS } from '../../domain/feature-gates.ts';
import {
  MISSING_ITEMS,
  missingBeforeCheckout,
  type OnboardingDraft,
  slugSchema,
  stageOf,
  timeZoneSchema,
} from '../../domain/onboarding/draft.ts';
import { TEMPLATE_CATALOGS, TRADE_TEMPLATES } from '../../domain/provisioning/trade-templates.ts';
import { findDraft, findDraftByTenant } from '../../persistence/repositories/onboarding.ts';
import { searchAvailableNumbers } from '../../providers/twilio/numbers.ts';
import {
  confirmVerificationCode,
  sendVerificationCode,
} from '../../runtime/onboarding/phone-verification.ts';
import { saveDraft } from '../../runtime/onboarding/save-draft.ts';
import { startOnboardingCheckout } from '../../runtime/onboarding/start-checkout.ts';
import type { ProvisioningDeps } from '../../runtime/provisioning/provisioning-deps.ts';
import type { AppDeps } from '../app.ts';
import { onboardingOrgOf } from '../auth/authenticate.ts';
import { instant } from '../schemas.ts';
import { checkoutBody } from './billing.ts';

// Self-serve onboarding: the admin of an organisation that has no tenant yet (the onboarding
// principal, src/http/auth/authenticate.ts) fills in a draft — the business's name and slug, its
// zone and trade template, the forwarding phone verified by a texted code, a number picked from
// those available in an area code — and pays for a plan through Stripe Checkout. When Stripe says
// the checkout is complete (src/http/routes/stripe-webhook.ts) the draft becomes the tenant, the
// admin its OWNER, and convergence starts. The organisation comes from the token, never the input.

const e164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/)
  .describe('E.164, e.g. +14155550123');
const areaCode = z
  .string()
  .regex(/^[2-9]\d{2}$/)
  .describe('a US area code such as 415');

const draftView = z
  .object({
    stage: z.enum(['none', 'draft', 'checkout', 'complete']).describe('none: nothing saved yet'),
    tenant_id: z.uuid().nullable().describe('the tenant this onboarding made (once complete)'),
    name: z.string().nullable(),
    slug: z.string().nullable(),
    time_zone: z.string().nullable(),
    template: z.enum(TRADE_TEMPLATES).nullable(),
    twilio_number: z.string().nullable().describe('null: any number in the forwarding phone’s area code'),
    forwarding_phone: z.string().nullable(),
    phone_verified: z.boolean(),
    plan: z.enum(PLANS).nullable(),
    checkout_url: z.string().nullable().describe('the open Stripe Checkout page, once started'),
    missing: z.array(z.enum(MISSING_ITEMS)).describe('what must still be given before checkout'),
    templates: z
      .array(
        z.object({
          template: z.enum(TRADE_TEMPLATES),
          services: z.array(
            z.object({
              name: z.string(),
              duration_minutes: z.number().int(),
              price: z.object({ amount_cents: z.number().int(), currency: z.literal('USD') }),
            }),
          ),
        }),
      )
      .describe('the trade templates the catalog and hours can start from'),
  })
  .meta({ id: 'OnboardingDraft' });

const TEMPLATES = TRADE_TEMPLATES.map((template) => ({
  template,
  services: TEMPLATE_CATALOGS[template].services.map((s) => ({
    name: s.name,
    duration_minutes: s.duration_minutes,
    price: { amount_cents: s.price_cents, currency: 'USD' as const },
  })),
}));

function viewOf(draft: OnboardingDraft | null, tenantId: string | null): z.infer<typeof draftView> {
  return {
    stage: draft ? stageOf(draft) : tenantId ? 'complete' : 'none',
    tenant_id: draft?.completedAt ? draft.tenantId : tenantId,
    name: draft?.name ?? null,
    slug: draft?.slug ?? null,
    time_zone: draft?.timeZone ?? null,
    template: draft?.template ?? null,
    twilio_number: draft?.twilioNumber ?? null,
    forwarding_phone: draft?.forwardingPhone ?? null,
    phone_verified: draft?.phoneVerifiedAt != null,
    plan: draft?.plan ?? null,
    checkout_url: draft?.completedAt ? null : (draft?.checkoutUrl ?? null),
    missing: draft ? missingBeforeCheckout(draft) : ['name', 'slug', 'time_zone', 'forwarding_phone'],
    templates: TEMPLATES,
  };
}

export function onboardingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    const provisioning = (): ProvisioningDeps => {
      if (!deps.provisioning)
        throw new AppError('unavailable', 'onboarding is not configured in this process');
      return deps.provisioning;
    };

    app.get(
      '/api/v1/onboarding',
      {
        config: { action: 'onboarding.read' },
        schema: {
          tags: ['onboarding'],
          summary: "The organisation's onboarding draft (for an owner whose tenant exists: how it ended)",
          operationId: 'getOnboarding',
          security,
          response: { 200: draftView },
        },
      },
      async (request) => {
        const tenantId = request.principal?.tenantId ?? null;
        if (tenantId) return viewOf(await findDraftByTenant(deps.db, tenantId), tenantId);
        return viewOf(await findDraft(deps.db, onboardingOrgOf(request).authOrgId), null);
      },
    );

    app.put(
      '/api/v1/onboarding',
      {
        config: { action: 'onboarding.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['onboarding'],
          summary: 'Start or change the draft: business name and slug, time zone, trade template, the number',
          operationId: 'saveOnboarding',
          security,
          body: z
            .object({
              name: z.string().trim().min(1).max(200).optional().describe('the business name callers see'),
              slug: slugSchema.optional(),
              time_zone: timeZoneSchema.optional(),
              template: z.enum(TRADE_TEMPLATES).optional().describe('the starting catalog and hours'),
              twilio_number: e164
                .nullable()
                .optional()
                .describe(
                  'one of GET /api/v1/onboarding/numbers; null: any in the forwarding phone’s area code',
                ),
            })
            .strict(),
          response: { 200: draftView },
        },
      },
      async (request) => {
        const body = request.body;
        const draft = await saveDraft(deps.db, onboardingOrgOf(request), {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.slug !== undefined ? { slug: body.slug } : {}),
          ...(body.time_zone !== undefined ? { timeZone: body.time_zone } : {}),
          ...(body.template !== undefined ? { template: body.template } : {}),
          ...(body.twilio_number !== undefined ? { twilioNumber: body.twilio_number } : {}),
        });
        return viewOf(draft, null);
      },
    );

    app.post(
      '/api/v1/onboarding/phone/code',
      {
        config: { action: 'onboarding.manage', audit: true, errors: ['conflict', 'unavailable'] },
        schema: {
          tags: ['onboarding'],
          summary:
            'Text a 6-digit code to the forwarding phone (from the platform’s own number); it becomes the draft’s, unverified',
          operationId: 'sendOnboardingCode',
          security,
          body: z.object({ phone: e164.describe('where calls to the business ring first') }).strict(),
          response: { 202: z.object({ phone: z.string(), expires_at: instant }) },
        },
      },
      async (request, reply) => {
        const p = provisioning();
        const sent = await sendVerificationCode(
          { db: deps.db, twilio: p.twilio, from: p.platformSmsFrom },
          onboardingOrgOf(request),
          request.body.phone,
        );
        return reply.code(202).send({ phone: sent.phone, expires_at: sent.expiresAt.toISOString() });
      },
    );

    app.post(
      '/api/v1/onboarding/phone/verify',
      {
        config: { action: 'onboarding.manage', audit: true, errors: ['conflict', 'gone', 'unprocessable'] },
        schema: {
          tags: ['onboarding'],
          summary:
            'Confirm the texted code: wrong 422, expired 410, five wrong tries 429 (ask for a new code)',
          operationId: 'verifyOnboardingPhone',
          security,
          body: z
            .object({
              code: z
                .string()
                .regex(/^\d{6}$/)
                .describe('the 6 digits texted'),
            })
            .strict(),
          response: { 200: draftView },
        },
      },
      async (request) => {
        const who = onboardingOrgOf(request);
        await confirmVerificationCode({ db: deps.db }, who, request.body.code);
        return viewOf(await findDraft(deps.db, who.authOrgId), null);
      },
    );

    app.get(
      '/api/v1/onboarding/numbers',
      {
        config: { action: 'onboarding.manage', errors: ['unavailable'] },
        schema: {
          tags: ['onboarding'],
          summary: 'Numbers available to buy in a US area code (Twilio AvailablePhoneNumbers)',
          operationId: 'listOnboardingNumbers',
          security,
          querystring: z.object({ area_code: areaCode }),
          response: { 200: z.object({ area_code: z.string(), numbers: z.array(z.string()) }) },
        },
      },
      async (request) => {
        onboardingOrgOf(request);
        const numbers = await searchAvailableNumbers(
          provisioning().twilio,
          request.query.area_code,
          20,
        ).catch((err: unknown) => {
          throw new AppError('unavailable', 'Twilio could not be reached; try again', { cause: err });
        });
        return { area_code: request.query.area_code, numbers };
      },
    );

    app.post(
      '/api/v1/onboarding/checkout',
      {
        config: {
          action: 'onboarding.manage',
          audit: true,
          errors: ['conflict', 'unprocessable', 'unavailable'],
        },
        schema: {
          tags: ['onboarding'],
          summary:
            'Pay for a plan through Stripe Checkout; when it completes the business is created and provisioned',
          operationId: 'startOnboardingCheckout',
          security,
          body: checkoutBody,
          response: { 201: z.object({ url: z.string(), session_id: z.string() }) },
        },
      },
      async (request, reply) => {
        const base = deps.config.PUBLIC_BASE_URL;
        const session = await startOnboardingCheckout(
          { db: deps.db, stripe: provisioning().stripe },
          onboardingOrgOf(request),
          {
            plan: request.body.plan,
            successUrl: request.body.success_url ?? `${base}/app/onboarding?checkout=success`,
            cancelUrl: request.body.cancel_url ?? `${base}/app/onboarding?checkout=canceled`,
          },
        );
        return reply.code(201).send({ url: session.url, session_id: session.sessionId });
      },
    );
  };
}
