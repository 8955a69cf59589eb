import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { reviewSchema } from '../../domain/ten-dlc.ts';
import { listPendingCampaigns } from '../../persistence/repositories/compliance.ts';
import { listTenants } from '../../persistence/repositories/tenants.ts';
import { listDeadLetters, replayDeadLetters } from '../../runtime/outbox-dispatcher.ts';
import { reviewTenDlc } from '../../runtime/ten-dlc.ts';
import type { AppDeps } from '../app.ts';
import { instant, listOf } from '../schemas.ts';
import { complianceJson, complianceSchema } from './compliance.ts';

// The platform staff API (STAFF role, across tenants). Every call is audited, reads included.

const tenantSummary = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    time_zone: z.string(),
    auth_org_id: z
      .string()
      .nullable()
      .describe("The tenant's organisation at the identity provider (what a tenant user's token names)"),
    created_at: instant,
  })
  .meta({ id: 'TenantSummary' });
const deadLetter = z
  .object({
    tenant_id: z.uuid(),
    event_id: z.uuid(),
    event_name: z.string(),
    attempts: z.number().int(),
    last_error: z.string(),
    dead_at: instant,
  })
  .meta({ id: 'DeadLetter' });

export function staffRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    app.get(
      '/api/staff/tenants',
      {
        config: { action: 'staff.tenants', audit: true },
        schema: {
          tags: ['staff'],
          summary: 'All tenants',
          operationId: 'listTenants',
          security,
          response: { 200: listOf(tenantSummary) },
        },
      },
      async () => ({
        items: (await listTenants(deps.db)).map((t) => ({ ...t, created_at: t.created_at.toISOString() })),
        next_cursor: null,
      }),
    );
    app.get(
      '/api/staff/compliance/pending',
      {
        config: { action: 'staff.compliance', audit: true },
        schema: {
          tags: ['staff'],
          summary: '10DLC registrations waiting for review',
          operationId: 'listPendingRegistrations',
          security,
          response: { 200: listOf(complianceSchema.extend({ tenant_id: z.uuid() })) },
        },
      },
      async () => ({
        items: (await listPendingCampaigns(deps.db)).map((row) => ({
          tenant_id: row.tenant_id,
          ...complianceJson(row),
        })),
        next_cursor: null,
      }),
    );
    app.post(
      '/api/staff/compliance/:tenantId/review',
      {
        config: { action: 'staff.compliance', audit: true },
        schema: {
          tags: ['staff'],
          summary: "Approve or reject a tenant's 10DLC campaign (the sandbox provider's review)",
          operationId: 'reviewRegistration',
          security,
          params: z.object({ tenantId: z.uuid() }),
          body: reviewSchema,
          response: { 200: complianceSchema },
        },
      },
      async (request) => {
        const reviewer = `staff:${request.principal?.subject ?? 'unknown'}`;
        const row = await reviewTenDlc(deps.db, request.params.tenantId, request.body, reviewer, request.id);
        if (!row) throw new AppError('not_found', 'no registration for this tenant');
        return complianceJson(row);
      },
    );
    app.get(
      '/api/staff/dead-letters',
      {
        config: { action: 'staff.dead_letters', audit: true },
        schema: {
          tags: ['staff'],
          summary: 'Outbox events that failed delivery',
          operationId: 'listDeadLetters',
          security,
          response: { 200: listOf(deadLetter) },
        },
      },
      async () => ({
        items: (await listDeadLetters(deps.db)).map((d) => ({ ...d, dead_at: d.dead_at.toISOString() })),
        next_cursor: null,
      }),
    );
    app.post(
      '/api/staff/dead-letters/replay',
      {
        config: { action: 'staff.dead_letters', audit: true },
        schema: {
          tags: ['staff'],
          summary: 'Replay one dead letter, or all',
          operationId: 'replayDeadLetters',
          security,
          body: z.union([
            z.object({ tenant_id: z.uuid(), event_id: z.uuid() }),
            z.object({ all: z.literal(true) }),
          ]),
          response: { 200: z.object({ replayed: z.number().int() }) },
        },
      },
      async (request) => {
        const body = request.body;
        const which = 'all' in body ? ('all' as const) : { tenantId: body.tenant_id, eventId: body.event_id };
        return { replayed: await replayDeadLetters(deps.db, which) };
      },
    );
  };
}
