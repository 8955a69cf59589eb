import { randomUUID } from 'node:crypto';
import type { EventName } from '../../domain/event-catalog.ts';
import type { Queryable } from '../../persistence/db.ts';
import { getService } from '../../persistence/repositories/catalog.ts';
import type { Reservation } from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { writeOutboxEvents } from '../outbox.ts';

// The scheduling module's events, written in the transaction that changes the appointment, so a
// calendar, a report or a reminder learns of every change exactly when it commits, whoever made it.

/** Which request an event belongs to; a fresh correlation when the caller has none. */
export type EventTrace = { correlationId: string; causationId: string | null };

type AppointmentEventName = Extract<EventName, `nmc.scheduling.${string}`>;

export function appointmentFacts(r: Reservation) {
  return {
    appointment_id: r.id,
    resource_id: r.resource_id,
    service_id: r.service_id,
    conversation_id: r.conversation_id,
    start: r.start,
    end: r.end,
  };
}

export async function recordAppointmentEvent(
  client: Queryable,
  input: {
    tenantId: string;
    name: AppointmentEventName;
    payload: Record<string, unknown>;
    at: string;
    trace?: EventTrace | undefined;
  },
): Promise<void> {
  // The service's price now, so revenue is counted at the price of the booking (a later price
  // change does not rewrite what was booked).
  const serviceId = input.payload.service_id;
  const service = typeof serviceId === 'string' ? await getService(client, input.tenantId, serviceId) : null;
  await writeOutboxEvents(client, [
    {
      tenantId: input.tenantId,
      name: input.name,
      payload: { ...input.payload, price_cents: service?.price.amount_cents ?? null },
      occurredAt: input.at,
      correlationId: input.trace?.correlationId ?? randomUUID(),
      causationId: input.trace?.causationId ?? null,
    },
  ]);
}
