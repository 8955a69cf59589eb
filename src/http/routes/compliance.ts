import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { registrationSchema } from '../../domain/ten-dlc.ts';
import { type CampaignRow, findCampaign, listOptOuts } from '../../persistence/repositories/compliance.ts';
import { submitTenDlc } from '../../runtime/ten-dlc.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { decodeKeysetCursor, encodeCursor, instant, listOf } from '../schemas.ts';

// OWNER: the tenant's 10DLC registration (submit, see its review) and the opt-out registry (read,
// export as CSV).

export const complianceSchema = z
  .object({
    status: z.enum(['none', 'pending', 'approved', 'rejected']),
    reason: z.string().nullable(),
    submitted_at: instant.nullable(),
    reviewed_at: instant.nullable(),
    registration: registrationSchema.nullable(),
  })
  .meta({ id: 'Compliance' });

export function complianceJson(row: CampaignRow | null) {
  const registration = registrationSchema.safeParse(row?.details);
  return {
    status: row?.status ?? ('none' as const),
    reason: row?.reason ?? null,
    submitted_at: row?.submitted_at?.toISOString() ?? null,
    reviewed_at: row?.reviewed_at?.toISOString() ?? null,
    registration: registration.success ? registration.data : null,
  };
}

const optOut = z.object({ phone: z.string(), source: z.string(), opted_out_at: instant });

export function complianceRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    app.get(
      '/api/v1/compliance',
      {
        config: { action: 'compliance.manage' },
        schema: {
          tags: ['compliance'],
          summary: '10DLC registration and its review',
          security,
          response: { 200: complianceSchema },
        },
      },
      async (request) => complianceJson(await findCampaign(deps.db, tenantOf(request))),
    );
    app.put(
      '/api/v1/compliance/registration',
      {
        config: { action: 'compliance.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['compliance'],
          summary: 'Submit the brand and campaign for review (nothing is sent until approved)',
          security,
          body: registrationSchema,
          response: { 200: complianceSchema },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const current = await findCampaign(deps.db, tenantId);
        // An approved campaign keeps sending; changing it is a new review through support.
        if (current?.status === 'approved')
          throw new AppError('conflict', 'the campaign is approved; changes go through support');
        return complianceJson(await submitTenDlc(deps.db, deps.tenDlc, tenantId, request.body, request.id));
      },
    );

    const optOutQuery = z.object({
      cursor: z.string().max(300).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    });
    app.get(
      '/api/v1/compliance/opt-outs',
      {
        config: { action: 'compliance.manage' },
        schema: {
          tags: ['compliance'],
          summary: 'Callers who opted out',
          security,
          querystring: optOutQuery,
          response: { 200: listOf(optOut) },
        },
      },
      async (request) => {
        let after: { at: string; phone: string } | undefined;
        if (request.query.cursor) {
          const { at, key } = decodeKeysetCursor(request.query.cursor, false);
          after = { at, phone: key };
        }
        const { limit } = request.query;
        const rows = await listOptOuts(deps.db, tenantOf(request), {
          limit: limit + 1,
          ...(after ? { after } : {}),
        });
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return {
          items: page.map((r) => ({
            phone: r.phone,
            source: r.source,
            opted_out_at: r.opted_out_at.toISOString(),
          })),
          next_cursor:
            rows.length > limit && last ? encodeCursor([last.opted_out_at.toISOString(), last.phone]) : null,
        };
      },
    );
    app.get(
      '/api/v1/compliance/opt-outs.csv',
      {
        config: { action: 'compliance.manage' },
        schema: {
          tags: ['compliance'],
          summary: 'The opt-out registry as CSV',
          operationId: 'exportOptOutsCsv',
          security,
          produces: ['text/csv'],
          response: {
            200: z
              .string()
              .describe('One line per opted-out number: phone,source,opted_out_at (with a header line)')
              .meta({
                example: 'phone,source,opted_out_at\n+15551234567,sms_stop,2026-12-01T15:04:05.000Z\n',
              }),
          },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const lines = ['phone,source,opted_out_at'];
        let after: { at: string; phone: string } | undefined;
        for (;;) {
          const rows = await listOptOuts(deps.db, tenantId, { limit: 1000, ...(after ? { after } : {}) });
          for (const r of rows) lines.push(`${r.phone},${r.source},${r.opted_out_at.toISOString()}`);
          const last = rows[rows.length - 1];
          if (!last || rows.length < 1000) break;
          after = { at: last.opted_out_at.toISOString(), phone: last.phone };
        }
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="opt-outs.csv"');
        return `${lines.join('\n')}\n`;
      },
    );
  };
}
