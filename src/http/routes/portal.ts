import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { inTransaction, type Queryable } from '../../persistence/db.ts';
import { getService } from '../../persistence/repositories/catalog.ts';
import { callersOf } from '../../persistence/repositories/conversations.ts';
import {
  bookingOf,
  currentAppointmentOfBooking,
  listAppointments,
} from '../../persistence/repositories/scheduling/appointments.ts';
import { findPortalLink } from '../../persistence/repositories/scheduling/portal-links.ts';
import type { Reservation } from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { mintPortalToken, type PortalClaims, verifyPortalToken } from '../../runtime/portal/portal-token.ts';
import { cancelAppointment } from '../../runtime/scheduling/cancel-appointment.ts';
import { findAvailability } from '../../runtime/scheduling/find-availability.ts';
import { moveAppointment } from '../../runtime/scheduling/move-appointment.ts';
import { loadSchedulingSettings } from '../../runtime/scheduling/scheduling-settings.ts';
import type { AppDeps } from '../app.ts';
import { traceOf } from '../correlation-id.ts';
import { instant } from '../schemas.ts';

// The customer's own page, /api/portal/* (no login; rate-limited per client address like the public
// API). The short link's code (`/p/<code>`, in reminders) is exchanged for a signed portal token
// that names one tenant, one booking and the customer's phone (src/runtime/portal/portal-token.ts);
// every other route takes that token as Bearer. The booking is the chain of a reschedule, so the
// link follows the appointment when it moves. Cancel and reschedule go through the same runtime as
// the operators' (same events, same guarantee against double booking). An unknown code is 404; an
// expired link or a cancelled booking is 410 `gone`, with a message a customer can act on.
//
// The page also lists the customer's other upcoming bookings with the business (GET
// /api/portal/bookings), and the customer may move or cancel those too (`?booking_id=` on the
// booking routes): a booking is the customer's when its public-page customer, or the caller of the
// conversation that booked it, has the token's phone, in the token's tenant. Anyone else's booking
// is 404, as if it did not exist. The token stays single-purpose: it names one booking and one
// phone, and only the phone widens what it may touch.

const codeBody = z.object({
  code: z.string().regex(/^[A-Za-z0-9]{10,32}$/, 'must be the code of your link'),
});
const sessionSchema = z.object({
  token: z
    .string()
    .describe('the portal token: send it as `Authorization: Bearer …` to the other portal routes'),
  expires_at: z.string().describe('when the token stops working (at most an hour; never after the link)'),
});
const bookingSchema = z.object({
  booking_id: z.uuid().describe('the booking (the same across reschedules)'),
  appointment_id: z.uuid().describe('its current appointment'),
  status: z.enum(['confirmed', 'cancelled', 'completed', 'no_show']),
  service_id: z.uuid(),
  service_name: z.string().nullable(),
  start: z.string(),
  end: z.string(),
  time_zone: z.string().describe("the business's IANA time zone"),
  upcoming: z.boolean().describe('the start is still ahead'),
});
const portalSchema = z.object({
  business: z.object({ name: z.string(), phone: z.string().nullable() }),
  booking: bookingSchema,
});
const bookingChoice = z
  .uuid()
  .optional()
  .describe("another of the customer's bookings (same phone, same business); default the link's");
// Loose: another parameter makes another request for X-Idempotency-Key (its hash reads the parsed
// query), as it does on the routes without a query schema.
const choiceQuery = z.looseObject({ booking_id: bookingChoice });
const availabilityQuery = z.object({ from: instant, to: instant, booking_id: bookingChoice });
const bookingsSchema = z.object({
  business: z.object({ name: z.string(), phone: z.string().nullable() }),
  items: z
    .array(bookingSchema.extend({ this_link: z.boolean().describe('the booking the link names') }))
    .describe("the customer's upcoming confirmed bookings with the business, soonest first"),
});
/** How far ahead the customer's other bookings are looked for. */
const BOOKINGS_AHEAD_MS = 366 * 86_400_000;
const slotsSchema = z.object({ items: z.array(z.object({ start: z.string(), end: z.string() })) });
const rescheduleBody = z.object({ start: instant.describe('a start the availability route offered') });

const GONE_CANCELLED = 'this booking was cancelled; text the business to book again';

export function portalRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Public to the operators' bearer check: the portal token is the credential (`portalToken`), and
    // `liveAppointment` answers 404 for a booking that no longer exists.
    const config = { public: true, errors: ['unauthorized', 'gone', 'not_found'] } as const;
    const portalToken = [{ portalToken: [] }];

    function key(): Uint8Array {
      if (!deps.portalKey) throw new AppError('unavailable', 'the customer page is not configured');
      return deps.portalKey;
    }

    async function claimsOf(request: FastifyRequest): Promise<PortalClaims> {
      const header = request.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
      const claims = token ? await verifyPortalToken(key(), token) : null;
      if (claims === null) throw new AppError('unauthorized', 'open the link from your text again');
      return claims;
    }

    async function liveAppointment(db: Queryable, claims: PortalClaims): Promise<Reservation> {
      const current = await currentAppointmentOfBooking(db, claims.tenantId, claims.bookingId);
      if (current === null) throw new AppError('not_found', 'booking not found');
      if (current.status !== 'live') throw new AppError('gone', GONE_CANCELLED);
      return current;
    }

    /** Whether an appointment is this customer's: the public page's customer, or the booking conversation's caller. */
    async function isCustomers(db: Queryable, claims: PortalClaims, r: Reservation): Promise<boolean> {
      if (r.customer_phone !== null) return r.customer_phone === claims.phone;
      if (r.conversation_id === null) return false;
      return (
        (await callersOf(db, claims.tenantId, [r.conversation_id])).get(r.conversation_id) === claims.phone
      );
    }

    /** The claims the route acts on: the link's booking, or another of the same customer's (else 404). */
    async function chosen(db: Queryable, claims: PortalClaims, bookingId: string | undefined) {
      if (bookingId === undefined || bookingId === claims.bookingId) return claims;
      // Only for a customer whose own link still works.
      await liveAppointment(db, claims);
      const other = await currentAppointmentOfBooking(db, claims.tenantId, bookingId);
      if (other === null || !(await isCustomers(db, claims, other))) {
        throw new AppError('not_found', 'booking not found');
      }
      return { ...claims, bookingId };
    }

    async function bookingJson(db: Queryable, tenantId: string, bookingId: string, r: Reservation) {
      const tenant = await findTenantById(db, tenantId);
      if (!tenant) throw new AppError('not_found', 'booking not found');
      const service = await getService(db, tenantId, r.service_id);
      return {
        business: { name: tenant.name, phone: tenant.forwarding_phone },
        booking: {
          booking_id: bookingId,
          appointment_id: r.id,
          status: r.status === 'cancelled' ? ('cancelled' as const) : (r.outcome ?? ('confirmed' as const)),
          service_id: r.service_id,
          service_name: service?.name ?? null,
          start: r.start,
          end: r.end,
          time_zone: tenant.time_zone,
          upcoming: Date.parse(r.start) > Date.now(),
        },
      };
    }

    // The short link in a text: the customer's page in the web app, with the code in the fragment
    // (a fragment never reaches a server's logs); the page exchanges it at /api/portal/sessions.
    app.get(
      '/p/:code',
      {
        // A browser's redirect, not an API operation (like the web app's own routes).
        schema: { hide: true, params: codeBody },
      },
      async (request, reply) => reply.redirect(`/app/portal#code=${request.params.code}`, 302),
    );

    app.post(
      '/api/portal/sessions',
      {
        // No token yet: the code is the credential.
        config: { ...config, errors: ['gone', 'not_found'] },
        schema: {
          tags: ['portal'],
          operationId: 'openPortalSession',
          summary: "Open the customer's page: exchange the code of their link for a portal token",
          body: codeBody,
          response: { 201: sessionSchema },
        },
      },
      async (request, reply) => {
        const link = await findPortalLink(deps.db, request.body.code);
        if (link === null) throw new AppError('not_found', 'this link is not known');
        const nowMs = Date.now();
        if (Date.parse(link.expires_at) <= nowMs) {
          throw new AppError('gone', 'this link has expired; your next reminder brings a new one');
        }
        await liveAppointment(deps.db, {
          tenantId: link.tenant_id,
          bookingId: link.booking_id,
          phone: link.phone,
        });
        const minted = await mintPortalToken(
          key(),
          { tenantId: link.tenant_id, bookingId: link.booking_id, phone: link.phone },
          { nowMs, linkExpiresMs: Date.parse(link.expires_at) },
        );
        reply.code(201);
        return { token: minted.token, expires_at: minted.expiresAt };
      },
    );

    app.get(
      '/api/portal/booking',
      {
        config,
        schema: {
          tags: ['portal'],
          operationId: 'getPortalBooking',
          security: portalToken,
          summary: 'The booking the link names, at its current time',
          response: { 200: portalSchema },
        },
      },
      async (request) => {
        const claims = await claimsOf(request);
        const current = await liveAppointment(deps.db, claims);
        return bookingJson(deps.db, claims.tenantId, claims.bookingId, current);
      },
    );

    app.get(
      '/api/portal/bookings',
      {
        config,
        schema: {
          tags: ['portal'],
          operationId: 'listPortalBookings',
          security: portalToken,
          summary: "The customer's upcoming bookings with the business (the link's and their others)",
          response: { 200: bookingsSchema },
        },
      },
      async (request) => {
        const claims = await claimsOf(request);
        const own = await liveAppointment(deps.db, claims);
        const nowMs = Date.now();
        const upcoming: Reservation[] = [];
        let after: { start: string; id: string } | undefined;
        for (;;) {
          const page = await listAppointments(deps.db, claims.tenantId, {
            from: new Date(nowMs).toISOString(),
            to: new Date(nowMs + BOOKINGS_AHEAD_MS).toISOString(),
            limit: 500,
            ...(after ? { after } : {}),
          });
          upcoming.push(...page);
          const last = page.at(-1);
          if (page.length < 500 || !last) break;
          after = { start: last.start, id: last.id };
        }
        const callers = await callersOf(
          deps.db,
          claims.tenantId,
          upcoming.flatMap((r) =>
            r.customer_phone === null && r.conversation_id ? [r.conversation_id] : [],
          ),
        );
        const mine = upcoming.filter((r) =>
          r.customer_phone !== null
            ? r.customer_phone === claims.phone
            : r.conversation_id !== null && callers.get(r.conversation_id) === claims.phone,
        );
        if (!mine.some((r) => r.id === own.id) && Date.parse(own.start) > nowMs) mine.unshift(own);
        mine.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
        const items = [];
        let business: { name: string; phone: string | null } | null = null;
        for (const r of mine) {
          const bookingId = (await bookingOf(deps.db, claims.tenantId, r.id)) ?? r.id;
          const json = await bookingJson(deps.db, claims.tenantId, bookingId, r);
          business = json.business;
          items.push({ ...json.booking, this_link: bookingId === claims.bookingId });
        }
        if (business === null)
          business = (await bookingJson(deps.db, claims.tenantId, claims.bookingId, own)).business;
        return { business, items };
      },
    );

    app.get(
      '/api/portal/booking/availability',
      {
        config,
        schema: {
          tags: ['portal'],
          operationId: 'listPortalBookingTimes',
          security: portalToken,
          summary: 'Open times to move the booking to, in [from, to)',
          querystring: availabilityQuery,
          response: { 200: slotsSchema },
        },
      },
      async (request) => {
        const claims = await chosen(deps.db, await claimsOf(request), request.query.booking_id);
        const current = await liveAppointment(deps.db, claims);
        const settings = await loadSchedulingSettings(deps.db, claims.tenantId, {
          holdTtlMinutes: deps.config.HOLD_TTL_MINUTES,
        });
        const found = await findAvailability(deps.db, {
          tenantId: claims.tenantId,
          serviceId: current.service_id,
          resourceId: current.resource_id,
          from: request.query.from,
          to: request.query.to,
          now: new Date().toISOString(),
          settings,
        });
        return { items: found.items.map((s) => ({ start: s.start, end: s.end })) };
      },
    );

    app.post(
      '/api/portal/booking/cancel',
      {
        config,
        schema: {
          tags: ['portal'],
          operationId: 'cancelPortalBooking',
          security: portalToken,
          summary: 'Cancel the booking (its time is free again at once); the link stops working',
          querystring: choiceQuery,
          response: { 200: portalSchema },
        },
      },
      async (request) => {
        const token = await claimsOf(request);
        return inTransaction(deps.db, async (client) => {
          const claims = await chosen(client, token, request.query.booking_id);
          const current = await liveAppointment(client, claims);
          await cancelAppointment(client, {
            tenantId: claims.tenantId,
            appointmentId: current.id,
            now: new Date().toISOString(),
            trace: traceOf(request),
          });
          const after = await currentAppointmentOfBooking(client, claims.tenantId, claims.bookingId);
          return bookingJson(client, claims.tenantId, claims.bookingId, after ?? current);
        });
      },
    );

    app.post(
      '/api/portal/booking/reschedule',
      {
        config: { ...config, errors: [...config.errors, 'conflict'] },
        schema: {
          tags: ['portal'],
          operationId: 'reschedulePortalBooking',
          security: portalToken,
          summary: 'Move the booking to a new time: the new time is taken, or nothing changes (409)',
          querystring: choiceQuery,
          body: rescheduleBody,
          response: { 200: portalSchema },
        },
      },
      async (request) => {
        const token = await claimsOf(request);
        const settings = await loadSchedulingSettings(deps.db, token.tenantId, {
          holdTtlMinutes: deps.config.HOLD_TTL_MINUTES,
        });
        return inTransaction(deps.db, async (client) => {
          const claims = await chosen(client, token, request.query.booking_id);
          const current = await liveAppointment(client, claims);
          const moved = await moveAppointment(client, {
            tenantId: claims.tenantId,
            appointmentId: current.id,
            start: new Date(Date.parse(request.body.start)).toISOString(),
            now: new Date().toISOString(),
            settings,
            trace: traceOf(request),
          });
          const after = await currentAppointmentOfBooking(client, claims.tenantId, claims.bookingId);
          if (after?.id !== moved.appointment.id) throw new Error('the moved appointment left its booking');
          return bookingJson(client, claims.tenantId, claims.bookingId, after);
        });
      },
    );
  };
}
