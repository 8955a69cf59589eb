import { z } from 'zod';
import { AppError } from '../domain/errors.ts';
import { inTransaction } from '../persistence/db.ts';
import { findConversation } from '../persistence/repositories/conversations.ts';
import { findReservation } from '../persistence/repositories/scheduling/holds.ts';
import type { Reservation } from '../persistence/repositories/scheduling/reservation-rows.ts';
import type { EventTrace } from '../runtime/scheduling/appointment-events.ts';
import { confirmHold } from '../runtime/scheduling/confirm-hold.ts';
import { findAvailability } from '../runtime/scheduling/find-availability.ts';
import { placeHold } from '../runtime/scheduling/place-hold.ts';
import { releaseHold } from '../runtime/scheduling/release-hold.ts';
import { loadSchedulingSettings } from '../runtime/scheduling/scheduling-settings.ts';
import type { AppDeps } from './app.ts';
import { appointmentJson } from './appointment-json.ts';
import { instant, listOf } from './schemas.ts';

// Availability, holds and bookings, shared by the operator API (tenant from the token) and the
// public booking API (tenant from the slug): the same rules whoever books.

export const slotSchema = z.object({ resource_id: z.uuid(), start: instant, end: instant });
export const availabilityQuery = z.object({
  service_id: z.uuid(),
  from: instant,
  to: instant,
  resource_id: z.uuid().optional(),
});
export const availabilityResponse = listOf(slotSchema);
export const holdBody = z.object({ service_id: z.uuid(), resource_id: z.uuid(), start: instant });
/** An operator's hold may name the caller's conversation it is for (the public API's never does). */
export const operatorHoldBody = holdBody.extend({
  conversation_id: z.uuid().optional().describe("the caller's conversation this booking is for"),
});
export const holdSchema = z
  .object({ id: z.uuid(), resource_id: z.uuid(), start: instant, end: instant, expires_at: instant })
  .meta({ id: 'Hold' });
const MAX_WINDOW_DAYS = 62;

export function bookingOperations(deps: AppDeps) {
  const settingsFor = (tenantId: string) =>
    loadSchedulingSettings(deps.db, tenantId, { holdTtlMinutes: deps.config.HOLD_TTL_MINUTES });
  return {
    async availability(tenantId: string, query: z.infer<typeof availabilityQuery>) {
      const from = Date.parse(query.from);
      const to = Date.parse(query.to);
      if (to <= from || to - from > MAX_WINDOW_DAYS * 86_400_000) {
        throw new AppError(
          'validation_failed',
          `to must be after from, at most ${MAX_WINDOW_DAYS} days later`,
        );
      }
      const result = await findAvailability(deps.db, {
        tenantId,
        serviceId: query.service_id,
        ...(query.resource_id ? { resourceId: query.resource_id } : {}),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        now: new Date().toISOString(),
        settings: await settingsFor(tenantId),
      });
      return { items: result.items, next_cursor: null };
    },
    async hold(tenantId: string, body: z.infer<typeof operatorHoldBody>) {
      // Another tenant's conversation answers exactly like one that does not exist.
      if (body.conversation_id && !(await findConversation(deps.db, tenantId, body.conversation_id)))
        throw new AppError('not_found', 'conversation not found');
      const settings = await settingsFor(tenantId);
      return inTransaction(deps.db, (client) =>
        placeHold(client, {
          tenantId,
          serviceId: body.service_id,
          resourceId: body.resource_id,
          start: new Date(Date.parse(body.start)).toISOString(),
          now: new Date().toISOString(),
          holdTtlMinutes: settings.hold_ttl_minutes,
          conversationId: body.conversation_id ?? null,
          boss: deps.boss,
          settings,
        }),
      );
    },
    async confirm(tenantId: string, holdId: string, trace: EventTrace) {
      return inTransaction(deps.db, async (client) => {
        await confirmHold(client, { tenantId, holdId, now: new Date().toISOString(), trace });
        return appointmentJson(client, tenantId, await bookedRow(client, tenantId, holdId));
      });
    },
    async release(tenantId: string, holdId: string) {
      await inTransaction(deps.db, (client) =>
        releaseHold(client, { tenantId, holdId, now: new Date().toISOString() }),
      );
    },
  };
}

/** The reservation row of an appointment just written in this transaction. */
export async function bookedRow(
  client: Parameters<typeof findReservation>[0],
  tenantId: string,
  id: string,
): Promise<Reservation> {
  const row = await findReservation(client, tenantId, id);
  if (row === null) throw new Error(`appointment ${id} vanished`);
  return row;
}
