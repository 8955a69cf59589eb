import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { listLiveHolds } from '../../persistence/repositories/scheduling/holds.ts';
import { holdView } from '../../persistence/repositories/scheduling/reservation-rows.ts';
import {
  createResource,
  deleteException,
  getResource,
  intervalsSchema,
  listExceptions,
  listResources,
  type Resource,
  resourceInputSchema,
  resourcePatchSchema,
  setException,
  updateResource,
} from '../../persistence/repositories/scheduling/resources.ts';
import { actionBody } from '../action-body.ts';
import type { AppDeps } from '../app.ts';
import { appointmentSchema } from '../appointment-json.ts';
import { tenantOf } from '../auth/authenticate.ts';
import {
  availabilityQuery,
  availabilityResponse,
  bookingOperations,
  holdSchema,
  operatorHoldBody,
} from '../booking-operations.ts';
import { traceOf } from '../correlation-id.ts';
import { listingWindowOf, listingWindowQuery } from '../listing-window.ts';
import { calendarDate, encodeCursor, idParam, listOf } from '../schemas.ts';

// Resources (OWNER manages), availability and holds (TECH and OWNER book); appointments are in
// appointments.ts.

const resourceSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    time_zone: z.string(),
    calendar_kind: z.enum(['internal', 'google', 'jobber']),
    weekly_hours: z.record(z.string(), z.array(z.object({ start: z.string(), end: z.string() }))),
  })
  .meta({ id: 'Resource' });

const liveHoldSchema = holdSchema
  .extend({
    service_id: z.uuid(),
    conversation_id: z.uuid().nullable().describe('The conversation the time is held for, if any'),
  })
  .meta({ id: 'LiveHold' });

const resourceJson = (r: Resource) => ({
  ...r,
  weekly_hours: Object.fromEntries(
    Object.entries(r.weekly_hours).map(([day, intervals]) => [day, [...(intervals ?? [])]]),
  ),
});

export function schedulingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    const booking = bookingOperations(deps);

    app.get(
      '/api/v1/resources',
      {
        config: { action: 'scheduling.read' },
        schema: {
          tags: ['scheduling'],
          summary: 'Resources',
          security,
          response: { 200: listOf(resourceSchema) },
        },
      },
      async (request) => ({
        items: (await listResources(deps.db, tenantOf(request))).map(resourceJson),
        next_cursor: null,
      }),
    );
    app.post(
      '/api/v1/resources',
      {
        config: { action: 'scheduling.manage', audit: true },
        schema: {
          tags: ['scheduling'],
          summary: 'Add a resource',
          security,
          body: resourceInputSchema,
          response: { 201: resourceSchema },
        },
      },
      async (request, reply) =>
        reply.code(201).send(resourceJson(await createResource(deps.db, tenantOf(request), request.body))),
    );
    app.patch(
      '/api/v1/resources/:id',
      {
        config: { action: 'scheduling.manage', audit: true },
        schema: {
          tags: ['scheduling'],
          summary: 'Change a resource (hours, time zone, name)',
          security,
          params: idParam,
          body: resourcePatchSchema,
          response: { 200: resourceSchema },
        },
      },
      async (request) => {
        const updated = await updateResource(deps.db, tenantOf(request), request.params.id, request.body);
        if (!updated) throw new AppError('not_found', 'resource not found');
        return resourceJson(updated);
      },
    );

    // Dated exceptions to a resource's weekly hours: a holiday (no intervals) or special hours.
    const exceptionParams = z.object({ id: z.uuid(), date: calendarDate });
    const exceptionSchema = z.object({
      resource_id: z.uuid(),
      date: z.string(),
      intervals: z.array(z.object({ start: z.string(), end: z.string() })),
    });
    app.get(
      '/api/v1/resources/:id/exceptions',
      {
        config: { action: 'scheduling.read' },
        schema: {
          tags: ['scheduling'],
          summary: "A resource's dated exceptions (holidays, special hours)",
          security,
          params: idParam,
          querystring: z.object({ from: calendarDate, to: calendarDate }),
          response: { 200: listOf(exceptionSchema) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        if (!(await getResource(deps.db, tenantId, request.params.id)))
          throw new AppError('not_found', 'resource not found');
        const items = await listExceptions(
          deps.db,
          tenantId,
          [request.params.id],
          request.query.from,
          request.query.to,
        );
        return { items: items.map((e) => ({ ...e, intervals: [...e.intervals] })), next_cursor: null };
      },
    );
    app.put(
      '/api/v1/resources/:id/exceptions/:date',
      {
        config: { action: 'scheduling.manage', audit: true },
        schema: {
          tags: ['scheduling'],
          summary: 'Set the hours of one date (empty intervals: closed all day)',
          security,
          params: exceptionParams,
          body: z.object({ intervals: intervalsSchema }),
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        if (!(await getResource(deps.db, tenantId, request.params.id)))
          throw new AppError('not_found', 'resource not found');
        await setException(deps.db, tenantId, request.params.id, request.params.date, request.body.intervals);
        return reply.code(204).send(null);
      },
    );
    app.delete(
      '/api/v1/resources/:id/exceptions/:date',
      {
        config: { action: 'scheduling.manage', audit: true },
        schema: {
          tags: ['scheduling'],
          summary: 'Remove the exception of one date, if any (weekly hours apply again)',
          security,
          params: exceptionParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        if (!(await getResource(deps.db, tenantId, request.params.id)))
          throw new AppError('not_found', 'resource not found');
        // Idempotent: removing an exception that is not there leaves the same state.
        await deleteException(deps.db, tenantId, request.params.id, request.params.date);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/availability',
      {
        config: { action: 'scheduling.read', errors: ['not_found'] },
        schema: {
          tags: ['scheduling'],
          summary: 'Open times for a service',
          security,
          querystring: availabilityQuery,
          response: { 200: availabilityResponse },
        },
      },
      async (request) => booking.availability(tenantOf(request), request.query),
    );
    app.get(
      '/api/v1/holds',
      {
        config: { action: 'scheduling.read' },
        schema: {
          tags: ['scheduling'],
          summary: "Holds that block time now, overlapping [from, to): instants or the tenant's local dates",
          description:
            'Live holds that have not expired, by start. A date is a local day of the business (`to` inclusive); without `to`, 7 days from `from` (default now). At most 62 days.',
          security,
          querystring: listingWindowQuery,
          response: { 200: listOf(liveHoldSchema) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const { resource_id, limit } = request.query;
        const now = Date.now();
        const { from, to, after } = await listingWindowOf(deps.db, tenantId, request.query, now);
        const rows = await listLiveHolds(deps.db, tenantId, {
          from,
          to,
          now: new Date(now).toISOString(),
          ...(resource_id ? { resourceId: resource_id } : {}),
          ...(after ? { after } : {}),
          limit: limit + 1,
        });
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return {
          items: page.map((r) => ({
            ...holdView(r),
            service_id: r.service_id,
            conversation_id: r.conversation_id,
          })),
          next_cursor: rows.length > limit && last ? encodeCursor([last.start, last.id]) : null,
        };
      },
    );
    app.post(
      '/api/v1/holds',
      {
        config: { action: 'scheduling.book', audit: true, errors: ['conflict', 'not_found'] },
        schema: {
          tags: ['scheduling'],
          summary: 'Hold a time',
          security,
          body: operatorHoldBody,
          response: { 201: holdSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await booking.hold(tenantOf(request), request.body)),
    );
    app.post(
      '/api/v1/holds/:id/confirm',
      {
        config: { action: 'scheduling.book', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['scheduling'],
          summary: 'Book a held time (the slot is never released in between)',
          security,
          params: idParam,
          body: actionBody,
          response: { 201: appointmentSchema },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await booking.confirm(tenantOf(request), request.params.id, traceOf(request))),
    );
    app.delete(
      '/api/v1/holds/:id',
      {
        config: { action: 'scheduling.book', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['scheduling'],
          summary: 'Release a hold',
          security,
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await booking.release(tenantOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
