import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BOOKING_CODE_PATTERN } from '../../domain/booking-code.ts';
import { AppError } from '../../domain/errors.ts';
import { isE164, MAX_PHONE_INPUT_LENGTH } from '../../domain/phone.ts';
import { readTenantSettings } from '../../domain/tenant-settings.ts';
import { listServices } from '../../persistence/repositories/catalog.ts';
import { findTenantBySlug } from '../../persistence/repositories/tenants.ts';
import {
  confirmPublicBooking,
  type PublicBookingDeps,
  releasePublicHold,
  requestPublicHold,
} from '../../runtime/public-booking.ts';
import type { AppDeps } from '../app.ts';
import { publicAppointmentSchema } from '../appointment-json.ts';
import {
  availabilityQuery,
  availabilityResponse,
  bookingOperations,
  holdBody,
  holdSchema,
} from '../booking-operations.ts';
import { traceOf } from '../correlation-id.ts';
import { idParam, listOf } from '../schemas.ts';
import { serviceSchema } from './catalog.ts';

// The public booking API under /api/public/:slug: no login, rate-limited per client address,
// X-Idempotency-Key honoured. The tenant comes from the slug, and only a tenant that turned public
// booking on (`public_booking_enabled`) has one: any other slug is 404 exactly like an unknown one.
// A hold carries its customer and texts them a code; booking takes the code (src/runtime/public-booking.ts).
// A hold id of another tenant, or one not placed here, answers 404 like a missing one.

const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/) });

const customerSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  phone: z
    .string()
    .max(MAX_PHONE_INPUT_LENGTH)
    .refine(isE164, 'must be a valid phone number in E.164 form, e.g. +13105551212'),
});
const publicHoldBody = holdBody.extend({ customer: customerSchema });
const bookingBody = z.object({
  hold_id: z.uuid(),
  code: z.string().regex(BOOKING_CODE_PATTERN, 'must be the 6-digit code we texted'),
});

export function publicBookingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const booking = bookingOperations(deps);
    const publicBooking: PublicBookingDeps = {
      db: deps.db,
      boss: deps.boss,
      dispatch: deps.dispatch,
      holdTtlMinutes: deps.config.HOLD_TTL_MINUTES,
    };
    // preValidation: after the rate limiter (a route-level onRequest), so every request counts,
    // whether its slug exists or not (no free enumeration of slugs), and before the global
    // idempotency hook (preHandler), which scopes keys by this tenant.
    app.addHook('preValidation', async (request) => {
      const { slug } = request.params as { slug?: string };
      const valid = slugParam.safeParse({ slug });
      const tenant = valid.success ? await findTenantBySlug(deps.db, valid.data.slug) : null;
      if (!tenant || !readTenantSettings(tenant.settings).publicBookingEnabled) {
        throw new AppError('not_found', 'no such business');
      }
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
        config: { ...config, errors: ['conflict'] },
        schema: {
          tags: ['public'],
          summary: 'Hold a time; the business texts a 6-digit code to the customer to book it',
          params: slugParam,
          body: publicHoldBody,
          response: { 201: holdSchema },
        },
      },
      async (request, reply) => {
        const { service_id, resource_id, start, customer } = request.body;
        const hold = await requestPublicHold(publicBooking, {
          tenantId: tenantOfSlug(request),
          serviceId: service_id,
          resourceId: resource_id,
          start: new Date(Date.parse(start)).toISOString(),
          customer,
          correlationId: request.id,
        });
        return reply.code(201).send(hold);
      },
    );
    app.delete(
      '/api/public/:slug/holds/:id',
      {
        config: { ...config, errors: ['conflict'] },
        schema: {
          tags: ['public'],
          summary: 'Release a hold',
          params: slugParam.extend(idParam.shape),
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await releasePublicHold(publicBooking, {
          tenantId: tenantOfSlug(request),
          holdId: request.params.id,
        });
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/api/public/:slug/bookings',
      {
        config: { ...config, errors: ['conflict'] },
        schema: {
          tags: ['public'],
          summary: 'Book a held time with the code texted to the customer',
          params: slugParam,
          body: bookingBody,
          response: { 201: publicAppointmentSchema },
        },
      },
      async (request, reply) => {
        const booked = await confirmPublicBooking(publicBooking, {
          tenantId: tenantOfSlug(request),
          holdId: request.body.hold_id,
          code: request.body.code,
          trace: traceOf(request),
        });
        const { id, resource_id, service_id, start, end } = booked;
        return reply
          .code(201)
          .send({ id, resource_id, service_id, start, end, status: 'confirmed' as const });
      },
    );
  };
}
