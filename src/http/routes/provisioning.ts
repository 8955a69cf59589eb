import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { PLANS } from '../../domain/feature-gates.ts';
import { desiredStateSchema, numberWish } from '../../domain/provisioning/desired-state.ts';
import { STEP_NAMES } from '../../domain/provisioning/steps.ts';
import { TRADE_TEMPLATES } from '../../domain/provisioning/trade-templates.ts';
import { registrationSchema } from '../../domain/ten-dlc.ts';
import { listDrift } from '../../persistence/repositories/drift.ts';
import { latestDesired, latestExport, listFailedSteps } from '../../persistence/repositories/provisioning.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { backfillTenant } from '../../runtime/provisioning/backfill.ts';
import {
  changeDesired,
  closeTenant,
  provisioningView,
  provisionTenant,
  replayConvergence,
} from '../../runtime/provisioning/provision-tenant.ts';
import type { ProvisioningDeps } from '../../runtime/provisioning/provisioning-deps.ts';
import { reconcileAll } from '../../runtime/provisioning/reconcile.ts';
import type { AppDeps } from '../app.ts';
import { instant, listOf } from '../schemas.ts';

// The staff API of provisioning: create a tenant (its convergence starts at once), see each step,
// change the desired state, close, replay failed steps, read the export and the drift report, run
// a reconciliation. Every call is audited (STAFF, across tenants).

const e164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/)
  .describe('E.164, e.g. +14155550123');
const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/)
  .describe('lowercase letters, digits and dashes; the public booking page lives under it');

export const newTenantBody = z
  .object({
    slug,
    name: z.string().trim().min(1).max(200).describe('the business name callers see in texts'),
    time_zone: z.string().min(1).max(100).describe('IANA zone, e.g. America/New_York'),
    auth_org_id: z
      .string()
      .min(1)
      .max(200)
      .nullable()
      .describe("the business's organisation at the identity provider"),
    forwarding_phone: e164.describe('where calls to the business number ring first'),
    twilio_number: e164.optional().describe('exactly this number (must be available to buy)'),
    area_code: z
      .string()
      .regex(/^[2-9]\d{2}$/)
      .optional()
      .describe('any number in this US area code (default: the forwarding phone’s)'),
    plan: z.enum(PLANS).optional().describe('a subscription billed by invoice; without it, no subscription'),
    template: z
      .enum(TRADE_TEMPLATES)
      .optional()
      .describe('the starting catalog and hours (default plumbing)'),
    ten_dlc: registrationSchema
      .optional()
      .describe('brand and campaign data; without it a sole-proprietor brand and the standard campaign'),
  })
  .refine((b) => !(b.twilio_number && b.area_code), 'give twilio_number or area_code, not both');

const stepView = z.object({
  step: z.enum(STEP_NAMES as [string, ...string[]]),
  status: z.enum(['pending', 'running', 'done', 'waiting', 'failed']),
  stale: z.boolean().describe('the desired state changed this step’s input since it last ran'),
  attempts: z.number().int(),
  last_error: z.string().nullable().describe('why it failed or what it waits for'),
  next_attempt_at: instant.nullable(),
  outputs: z.record(z.string(), z.unknown()).describe('provider ids this step recorded'),
  updated_at: instant.nullable(),
});

export const provisioningViewSchema = z.object({
  tenant: z.object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    time_zone: z.string(),
    auth_org_id: z.string().nullable(),
    twilio_number: z.string().nullable(),
    forwarding_phone: z.string().nullable(),
    closed_at: instant.nullable(),
  }),
  desired: z
    .object({
      version: z.number().int(),
      spec: desiredStateSchema,
      converged: z.boolean().describe('every step is done for this version'),
    })
    .nullable()
    .describe('null for a tenant made before convergence (the seeded demo)'),
  steps: z.array(stepView),
});

const desiredChange = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    time_zone: z.string().min(1).max(100).optional(),
    forwarding_phone: e164.optional(),
    number: numberWish.optional(),
    plan: z.enum(PLANS).nullable().optional(),
    template: z.enum(TRADE_TEMPLATES).optional(),
    ten_dlc: registrationSchema.nullable().optional(),
  })
  .describe('the fields to change; convergence re-runs only the steps they affect');

const driftItem = z.object({
  tenant_id: z.uuid(),
  kind: z.string().describe('number_webhooks, number_ownership, subscription, campaign (calendar later)'),
  subject: z.string().describe("the provider's id of the thing that drifted"),
  expected: z.unknown(),
  actual: z.unknown(),
  first_seen_at: instant,
  last_seen_at: instant,
  repaired_at: instant.nullable(),
  resolved_at: instant.nullable(),
});

const tenantParams = z.object({ tenantId: z.uuid() });

function required(deps: AppDeps): ProvisioningDeps {
  if (!deps.provisioning) throw new AppError('unavailable', 'provisioning is not configured in this process');
  return deps.provisioning;
}

async function viewOr404(deps: AppDeps, tenantId: string) {
  const view = await provisioningView(
    deps.db,
    tenantId,
    deps.provisioning?.webhookBaseUrl ?? deps.config.PUBLIC_BASE_URL,
  );
  if (!view) throw new AppError('not_found', 'no such tenant');
  return view;
}

async function provisionedOr(deps: AppDeps, tenantId: string): Promise<void> {
  if (await latestDesired(deps.db, tenantId)) return;
  if (await findTenantById(deps.db, tenantId))
    throw new AppError('conflict', 'this tenant was not provisioned by convergence');
  throw new AppError('not_found', 'no such tenant');
}

export function provisioningRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    const config = { action: 'staff.tenants' as const, audit: true };
    // A taken slug or organisation, a closed tenant, or one made before convergence.
    const conflicting = { ...config, errors: ['conflict' as const] };
    const actor = (subject: string | undefined) => `staff:${subject ?? 'unknown'}`;

    app.post(
      '/api/staff/tenants',
      {
        config: conflicting,
        schema: {
          tags: ['staff'],
          summary: 'Provision a tenant: its desired state is stored and convergence starts',
          operationId: 'provisionTenant',
          security,
          body: newTenantBody,
          response: { 201: provisioningViewSchema },
        },
      },
      async (request, reply) => {
        const { tenant } = await provisionTenant(
          required(deps),
          request.body,
          actor(request.principal?.subject),
        );
        return reply.code(201).send(await viewOr404(deps, tenant.id));
      },
    );
    app.get(
      '/api/staff/tenants/:tenantId',
      {
        config,
        schema: {
          tags: ['staff'],
          summary: 'A tenant with its desired state and each convergence step',
          operationId: 'getTenantProvisioning',
          security,
          params: tenantParams,
          response: { 200: provisioningViewSchema },
        },
      },
      async (request) => viewOr404(deps, request.params.tenantId),
    );
    app.patch(
      '/api/staff/tenants/:tenantId',
      {
        config: conflicting,
        schema: {
          tags: ['staff'],
          summary: 'Change the desired state (a new version); convergence re-runs the affected steps',
          operationId: 'changeTenantDesiredState',
          security,
          params: tenantParams,
          body: desiredChange,
          response: { 202: z.object({ desired_version: z.number().int() }) },
        },
      },
      async (request, reply) => {
        await provisionedOr(deps, request.params.tenantId);
        const change = Object.fromEntries(Object.entries(request.body).filter(([, v]) => v !== undefined));
        const version = await changeDesired(
          required(deps),
          request.params.tenantId,
          change,
          actor(request.principal?.subject),
        );
        return reply.code(202).send({ desired_version: version });
      },
    );
    app.post(
      '/api/staff/tenants/:tenantId/converge',
      {
        config: conflicting,
        schema: {
          tags: ['staff'],
          summary: 'Replay: failed steps start over and convergence runs now',
          operationId: 'convergeTenant',
          security,
          params: tenantParams,
          response: { 202: z.object({ replayed_steps: z.number().int() }) },
        },
      },
      async (request, reply) => {
        await provisionedOr(deps, request.params.tenantId);
        return reply
          .code(202)
          .send({ replayed_steps: await replayConvergence(required(deps), request.params.tenantId) });
      },
    );
    app.post(
      '/api/staff/tenants/:tenantId/close',
      {
        config: conflicting,
        schema: {
          tags: ['staff'],
          summary:
            'Close: export the data, stop sending, release the number, cancel billing, delete after retention',
          operationId: 'closeTenant',
          security,
          params: tenantParams,
          response: { 202: z.object({ desired_version: z.number().int() }) },
        },
      },
      async (request, reply) => {
        await provisionedOr(deps, request.params.tenantId);
        const version = await closeTenant(
          required(deps),
          request.params.tenantId,
          actor(request.principal?.subject),
        );
        return reply.code(202).send({ desired_version: version });
      },
    );
    app.post(
      '/api/staff/tenants/:tenantId/backfill',
      {
        config,
        schema: {
          tags: ['staff'],
          summary:
            "Rebuild our record of the tenant's number, Stripe customer and subscriptions, and campaign from the providers",
          operationId: 'backfillTenant',
          security,
          params: tenantParams,
          response: {
            200: z.object({
              number: z.string().nullable().describe('the number Twilio holds under the tenant’s tag'),
              numbers_found: z.number().int(),
              stripe_customer: z.string().nullable(),
              subscriptions: z.number().int().describe('subscriptions read into the mirror'),
              campaign: z.enum(['pending', 'approved', 'rejected']).nullable(),
              campaign_rechecked: z.boolean().describe('our campaign status differed: its step runs again'),
            }),
          },
        },
      },
      async (request) =>
        backfillTenant(required(deps), request.params.tenantId).catch((err: unknown) => {
          if (err instanceof AppError) throw err;
          throw new AppError('unavailable', 'a provider could not be reached; try again', { cause: err });
        }),
    );
    app.get(
      '/api/staff/tenants/:tenantId/export',
      {
        config,
        schema: {
          tags: ['staff'],
          summary: "The closing tenant's data archive (JSON, table by table), null before one was made",
          operationId: 'getTenantExport',
          security,
          params: tenantParams,
          response: {
            200: z.object({
              export: z.object({ id: z.uuid(), created_at: instant, archive: z.unknown() }).nullable(),
            }),
          },
        },
      },
      async (request) => {
        await viewOr404(deps, request.params.tenantId);
        const found = await latestExport(deps.db, request.params.tenantId);
        return {
          export: found
            ? { id: found.id, created_at: found.created_at.toISOString(), archive: found.archive }
            : null,
        };
      },
    );
    app.get(
      '/api/staff/provisioning/failed-steps',
      {
        config: { action: 'staff.dead_letters' as const, audit: true },
        schema: {
          tags: ['staff'],
          summary:
            "Convergence's dead letters: steps that failed for good (replay a tenant's with POST /api/staff/tenants/:id/converge)",
          operationId: 'listFailedProvisioningSteps',
          security,
          response: {
            200: listOf(
              z.object({
                tenant_id: z.uuid(),
                step: z.string(),
                attempts: z.number().int(),
                last_error: z.string().nullable(),
                failed_at: instant,
              }),
            ),
          },
        },
      },
      async () => {
        const rows = await listFailedSteps(deps.db, 500);
        return {
          items: rows.map((r) => ({
            tenant_id: r.tenant_id,
            step: r.step,
            attempts: r.attempts,
            last_error: r.last_error,
            failed_at: r.updated_at.toISOString(),
          })),
          next_cursor: null,
        };
      },
    );
    app.get(
      '/api/staff/drift',
      {
        config,
        schema: {
          tags: ['staff'],
          summary: 'The drift report: what reconciliation found different at the providers',
          operationId: 'listDrift',
          security,
          querystring: z.object({
            tenant_id: z.uuid().optional().describe('one tenant only'),
            open: z.enum(['true', 'false']).default('false').describe('only findings not yet resolved'),
          }),
          response: { 200: listOf(driftItem) },
        },
      },
      async (request) => {
        const rows = await listDrift(deps.db, {
          ...(request.query.tenant_id ? { tenantId: request.query.tenant_id } : {}),
          openOnly: request.query.open === 'true',
        });
        const at = (d: Date | null) => (d === null ? null : d.toISOString());
        return {
          items: rows.map((r) => ({
            ...r,
            first_seen_at: r.first_seen_at.toISOString(),
            last_seen_at: r.last_seen_at.toISOString(),
            repaired_at: at(r.repaired_at),
            resolved_at: at(r.resolved_at),
          })),
          next_cursor: null,
        };
      },
    );
    app.post(
      '/api/staff/reconcile',
      {
        config,
        schema: {
          tags: ['staff'],
          summary: 'Run a reconciliation now (one tenant or all) and answer its findings',
          operationId: 'reconcile',
          security,
          body: z
            .object({
              tenant_id: z.uuid().optional(),
              dry_run: z.boolean().default(false).describe('report only: repair nothing, record nothing'),
              repair: z
                .boolean()
                .default(true)
                .describe('repair the safe kinds (webhook URLs, campaign status)'),
              repair_all: z.boolean().default(false).describe('repair billing and number ownership too'),
            })
            // Every field is optional: a misspelt one must be refused, not read as "all defaults".
            .strict()
            .default({ dry_run: false, repair: true, repair_all: false }),
          response: {
            200: z.object({
              tenants: z.number().int(),
              findings: z.array(
                z.object({
                  tenant_id: z.uuid(),
                  kind: z.string(),
                  subject: z.string(),
                  expected: z.unknown(),
                  actual: z.unknown(),
                  repaired: z.boolean(),
                  error: z.string().nullable(),
                }),
              ),
            }),
          },
        },
      },
      async (request) =>
        reconcileAll(required(deps), {
          ...(request.body.tenant_id ? { tenantId: request.body.tenant_id } : {}),
          dryRun: request.body.dry_run,
          repairSafe: request.body.repair,
          repairAll: request.body.repair_all,
        }),
    );
  };
}
