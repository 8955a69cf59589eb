import type { PgBoss } from 'pg-boss';
import { isAppError } from '../domain/errors.ts';
import { searchSlots } from '../domain/slot-search.ts';
import type { BookingRequest } from '../machines/conversation-events.ts';
import type { PoolClient } from '../persistence/db.ts';
import { findReservation } from '../persistence/repositories/scheduling/holds.ts';
import { loadSchedulingPolicyRows } from '../persistence/repositories/scheduling/resources.ts';
import type { Tenant } from '../persistence/repositories/tenants.ts';
import type { EventInput } from './dispatch.ts';
import type { EventTrace } from './scheduling/appointment-events.ts';
import { cancelAppointment } from './scheduling/cancel-appointment.ts';
import { confirmHold } from './scheduling/confirm-hold.ts';
import { findOpenTimes } from './scheduling/find-availability.ts';
import { moveAppointment } from './scheduling/move-appointment.ts';
import { placeHold } from './scheduling/place-hold.ts';
import { releaseHold } from './scheduling/release-hold.ts';
import { resolveSchedulingSettings } from './scheduling/scheduling-settings.ts';
import { type HeldFacts, heldOr } from './tenant-facts.ts';

// Answers the booking dialogue's requests inside the dispatch transaction, as the follow-up event
// the machine applies next (or null when nothing follows). Conflicts are answers, not errors:
// the dialogue offers other times.

const OFFERED_SLOTS = 3;

export type BookingContext = {
  client: PoolClient;
  boss: PgBoss;
  tenant: Tenant;
  conversationId: string;
  at: string;
  holdTtlMinutes: number;
  /** The request the dispatch answers, for the scheduling events its booking writes. */
  trace: EventTrace;
  /** The customer's page for a new booking (src/runtime/portal), written in this transaction. */
  linkFor?: (appointmentId: string) => Promise<string | null>;
  /** The tenant's facts this process holds at the transaction's version (src/runtime/tenant-facts.ts). */
  facts?: HeldFacts;
};

export async function answerBookingRequest(
  request: BookingRequest,
  ctx: BookingContext,
): Promise<EventInput | null> {
  const { client, tenant, at } = ctx;
  const policyRows = await heldOr(ctx.facts, 'schedulingPolicy', () =>
    loadSchedulingPolicyRows(client, tenant.id),
  );
  const settings = resolveSchedulingSettings(policyRows, ctx.holdTtlMinutes);
  const conflictOr = async (run: () => Promise<EventInput>, failed: (reason: string) => EventInput) => {
    try {
      return await run();
    } catch (err) {
      if (isAppError(err) && (err.code === 'conflict' || err.code === 'not_found')) return failed(err.code);
      throw err;
    }
  };
  switch (request.type) {
    case 'findSlots': {
      const search = request.search ?? { kind: 'spread' };
      return conflictOr(
        async () => {
          const moving = request.moving ? await findReservation(client, tenant.id, request.moving) : null;
          const times = await findOpenTimes(client, {
            tenantId: tenant.id,
            serviceId: request.serviceId,
            // The active catalog held at this version has it, unless it is inactive or unknown.
            service: ctx.facts?.known.services?.find((s) => s.id === request.serviceId),
            now: at,
            timeZone: tenant.time_zone,
            settings,
            ignoreReservation: moving?.status === 'live' ? moving : null,
          });
          const answer = searchSlots({ ...times, search, timeZone: tenant.time_zone, count: OFFERED_SLOTS });
          return {
            type: 'SlotsFound',
            serviceId: request.serviceId,
            slots: answer.slots.map((slot) => ({
              resourceId: slot.resource_id,
              start: slot.start,
              end: slot.end,
            })),
            outcome: answer.outcome,
            closedDate: answer.closedDate,
            at,
          };
        },
        () => ({ type: 'SlotsFound', serviceId: request.serviceId, slots: [], at }),
      );
    }
    case 'moveAppointment':
      return conflictOr(
        async () => {
          const moved = await moveAppointment(client, {
            tenantId: tenant.id,
            appointmentId: request.appointmentId,
            resourceId: request.slot.resourceId,
            start: request.slot.start,
            now: at,
            settings,
            conversationId: ctx.conversationId,
            trace: ctx.trace,
          });
          return {
            type: 'AppointmentMoved',
            appointmentId: moved.appointment.id,
            previousId: moved.previous.id,
            slot: {
              resourceId: moved.appointment.resource_id,
              start: moved.appointment.start,
              end: moved.appointment.end,
            },
            at,
          };
        },
        (reason) => ({ type: 'MoveFailed', reason, at }),
      );
    case 'placeHold':
      return conflictOr(
        async () => {
          const hold = await placeHold(client, {
            tenantId: tenant.id,
            serviceId: request.serviceId,
            resourceId: request.slot.resourceId,
            start: request.slot.start,
            now: at,
            holdTtlMinutes: settings.hold_ttl_minutes,
            conversationId: ctx.conversationId,
            boss: ctx.boss,
            settings,
          });
          return {
            type: 'HoldPlaced',
            holdId: hold.id,
            slot: { resourceId: hold.resource_id, start: hold.start, end: hold.end },
            expiresAt: hold.expires_at,
            at,
          };
        },
        (reason) => ({ type: 'HoldFailed', reason, at }),
      );
    case 'confirmHold':
      return conflictOr(
        async () => {
          const appointment = await confirmHold(client, {
            tenantId: tenant.id,
            holdId: request.holdId,
            now: at,
            trace: ctx.trace,
          });
          const link = (await ctx.linkFor?.(appointment.id)) ?? null;
          return {
            type: 'Booked',
            appointmentId: appointment.id,
            slot: { resourceId: appointment.resource_id, start: appointment.start, end: appointment.end },
            ...(link ? { link } : {}),
            at,
          };
        },
        (reason) => ({ type: 'BookingFailed', reason, at }),
      );
    case 'releaseHold':
      await releaseHold(client, { tenantId: tenant.id, holdId: request.holdId, now: at }).catch(
        (err: unknown) => {
          if (!isAppError(err)) throw err;
        },
      );
      return null;
    case 'cancelAppointment':
      return conflictOr(
        async () => {
          await cancelAppointment(client, {
            tenantId: tenant.id,
            appointmentId: request.appointmentId,
            now: at,
            trace: ctx.trace,
          });
          return { type: 'AppointmentCancelled', appointmentId: request.appointmentId, at };
        },
        (reason) => ({ type: 'CancellationFailed', appointmentId: request.appointmentId, reason, at }),
      );
  }
}
