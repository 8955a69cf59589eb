import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { listServices } from '../../persistence/repositories/catalog.ts';
import { findTenantBySlug } from '../../persistence/repositories/tenants.ts';
import type { AppDeps } from '../app.ts';
import {
  appointmentSchema,
  availabilityQuery,
  availabilityResponse,
  bookingOperations,
  holdBody,
  holdSchema,
} from '../booking-operations.ts';
import { idParam, listOf } from '../schemas.ts';
import { serviceSchema } from './catalog.ts';

// The public booking API under /api/public/:slug: no login, rate-limited per client address,
// X-Idempotency-Key honoured. The tenant comes from the slug; a hold or booking id of another
// tenant answers 404 like a missing one.

const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/) });

export function publicBookingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const booking = bookingOperations(deps);
    // onRequest, so the tenant is known before the global idempotency hook (preHandler) runs.
    app.addHook('onRequest', async (request) => {
      const { slug } = request.params as { slug?: string };
      const valid = slugParam.safeParse({ slug });
      const tenant = valid.success ? await findTenantBySlug(deps.db, valid.data.slug) : null;
      if (!tenant) throw new AppError('not_found', 'no such business');
      request.publicTenantId = tenant.id;
    });
    const tenantOfSlug = (request: { publicTenantId?: string }) => {
      if (!request.publicTenantId) throw new AppError('not_found', 'no such business');
      return request.publicTenantId;
    };
    const config = { public: true };

    app.get(
      '/api/public/:slug/services',
      {
        config,
        schema: {
          tags: ['public'],
          summary: "The business's bookable services",
          params: slugParam,
          response: { 200: listOf(serviceSchema) },
        },
      },
      async (request) => ({
        items: await listServices(deps.db, tenantOfSlug(request), { activeOnly: true }),
        next_cursor: null,
      }),
    );
    app.get(
      '/api/public/:slug/availability',
      {
        config,
        schema: {
          tags: ['public'],
          summary: 'Open times for a service',
          params: slugParam,
          querystring: availabilityQuery,
          response: { 200: availabilityResponse },
        },
      },
      async (request) => booking.availability(tenantOfSlug(request), request.query),
    );
    app.post(
      '/api/public/:slug/holds',
      {
        config,
        schema: {
          tags: ['public'],
          summary: 'Hold a time',
          params: slugParam,
          body: holdBody,
          response: { 201: holdSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await booking.hold(tenantOfSlug(request), request.body)),
    );
    app.delete(
      '/api/public/:slug/holds/:id',
      {
        config,
        schema: {
          tags: ['public'],
          summary: 'Release a hold',
          params: slugParam.extend(idParam.shape),
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await booking.release(tenantOfSlug(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/api/public/:slug/bookings',
      {
        config,
        schema: {
          tags: ['public'],
          summary: 'Book a held time',
          params: slugParam,
          body: z.object({ hold_id: z.uuid() }),
          response: { 201: appointmentSchema },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await booking.confirm(tenantOfSlug(request), request.body.hold_id)),
    );
  };
}
