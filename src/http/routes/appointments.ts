import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appointmentWindow } from '../../domain/appointment-window.ts';
import { AppError } from '../../domain/errors.ts';
import { inTransaction } from '../../persistence/db.ts';
import { listAppointments } from '../../persistence/repositories/scheduling/appointments.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { cancelAppointment } from '../../runtime/scheduling/cancel-appointment.ts';
import { markAppointmentOutcome } from '../../runtime/scheduling/mark-outcome.ts';
import { moveAppointment } from '../../runtime/scheduling/move-appointment.ts';
import { loadSchedulingSettings } from '../../runtime/scheduling/scheduling-settings.ts';
import { actionBody } from '../action-body.ts';
import type { AppDeps } from '../app.ts';
import { appointmentJson, appointmentSchema, appointmentsJson } from '../appointment-json.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { bookedRow } from '../booking-operations.ts';
import { traceOf } from '../correlation-id.ts';
import { calendarDate, decodeKeysetCursor, encodeCursor, idParam, instant, listOf } from '../schemas.ts';

// The business's appointments: the listing by local days, and what an operator does to one —
// cancel, reschedule (atomically: the new time is taken or nothing changes), mark its outcome.
// TECH and OWNER alike: the person who does the job knows whether the customer came.

const rescheduleBody = z.object({
  start: instant.describe('the new start; must be a time availability offers'),
  resource_id: z.uuid().optional().describe('another resource; the same one by default'),
});
const outcomeBody = z.object({ outcome: z.enum(['completed', 'no_show']) });

export function appointmentRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/appointments',
      {
        config: { action: 'scheduling.read' },
        schema: {
          tags: ['scheduling'],
          summary:
            "Appointments starting in [from, to): instants or the tenant's local dates (to inclusive); default the coming 7 days",
          security,
          querystring: z.object({
            from: z.union([calendarDate, instant]).optional(),
            to: z.union([calendarDate, instant]).optional(),
            resource_id: z.uuid().optional(),
            include_cancelled: z.stringbool().default(false),
            cursor: z.string().max(200).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: listOf(appointmentSchema) },
        },
      },
      async (request) => {
        const { from, to, resource_id, include_cancelled, cursor, limit } = request.query;
        let after: { start: string; id: string } | undefined;
        if (cursor) {
          const { at, key } = decodeKeysetCursor(cursor);
          after = { start: at, id: key };
        }
        const tenantId = tenantOf(request);
        const tenant = await findTenantById(deps.db, tenantId);
        if (!tenant) throw new AppError('not_found', 'tenant not found');
        const window = appointmentWindow({ from, to, timeZone: tenant.time_zone, nowMs: Date.now() });
        const rows = await listAppointments(deps.db, tenantId, {
          from: new Date(window.fromMs).toISOString(),
          to: new Date(window.toMs).toISOString(),
          ...(resource_id ? { resourceId: resource_id } : {}),
          includeCancelled: include_cancelled,
          ...(after ? { after } : {}),
          limit: limit + 1,
        });
        const page = await appointmentsJson(deps.db, tenant, rows.slice(0, limit));
        const last = page[page.length - 1];
        return {
          items: page,
          next_cursor: rows.length > limit && last ? encodeCursor([last.start, last.id]) : null,
        };
      },
    );

    app.post(
      '/api/v1/appointments/:id/cancel',
      {
        config: { action: 'scheduling.book', audit: true },
        schema: {
          tags: ['scheduling'],
          summary: 'Cancel an appointment (its time is free again at once; cancelling twice is harmless)',
          security,
          params: idParam,
          body: actionBody,
          response: { 200: appointmentSchema },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        return inTransaction(deps.db, async (client) => {
          const cancelled = await cancelAppointment(client, {
            tenantId,
            appointmentId: request.params.id,
            now: new Date().toISOString(),
            trace: traceOf(request),
          });
          return appointmentJson(client, tenantId, await bookedRow(client, tenantId, cancelled.id));
        });
      },
    );

    app.post(
      '/api/v1/appointments/:id/reschedule',
      {
        config: { action: 'scheduling.book', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['scheduling'],
          summary:
            'Move an appointment to a new time: the new appointment replaces it, or nothing changes (409)',
          security,
          params: idParam,
          body: rescheduleBody,
          response: { 200: appointmentSchema },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const settings = await loadSchedulingSettings(deps.db, tenantId, {
          holdTtlMinutes: deps.config.HOLD_TTL_MINUTES,
        });
        return inTransaction(deps.db, async (client) => {
          const moved = await moveAppointment(client, {
            tenantId,
            appointmentId: request.params.id,
            ...(request.body.resource_id ? { resourceId: request.body.resource_id } : {}),
            start: new Date(Date.parse(request.body.start)).toISOString(),
            now: new Date().toISOString(),
            settings,
            trace: traceOf(request),
          });
          return appointmentJson(client, tenantId, await bookedRow(client, tenantId, moved.appointment.id));
        });
      },
    );

    app.post(
      '/api/v1/appointments/:id/outcome',
      {
        config: { action: 'scheduling.book', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['scheduling'],
          summary:
            'Mark what became of an appointment once it has started: completed, or no_show (marking again corrects it)',
          security,
          params: idParam,
          body: outcomeBody,
          response: { 200: appointmentSchema },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        return inTransaction(deps.db, async (client) => {
          const marked = await markAppointmentOutcome(client, {
            tenantId,
            appointmentId: request.params.id,
            outcome: request.body.outcome,
            now: new Date().toISOString(),
            trace: traceOf(request),
          });
          return appointmentJson(client, tenantId, await bookedRow(client, tenantId, marked.id));
        });
      },
    );
  };
}
