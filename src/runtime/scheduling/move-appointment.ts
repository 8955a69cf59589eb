import { randomUUID } from 'node:crypto';
import { computeAvailability } from '../../domain/availability.ts';
import { AppError } from '../../domain/errors.ts';
import { formatInstant } from '../../domain/instant.ts';
import { MINUTE_MS } from '../../domain/wall-time.ts';
import type { Queryable } from '../../persistence/db.ts';
import {
  cancelLiveAppointment,
  continueBooking,
} from '../../persistence/repositories/scheduling/appointments.ts';
import { findReservation, tryInsertReservation } from '../../persistence/repositories/scheduling/holds.ts';
import {
  type AppointmentView,
  appointmentView,
} from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { lockResource } from '../../persistence/repositories/scheduling/resources.ts';
import { appointmentFacts, type EventTrace, recordAppointmentEvent } from './appointment-events.ts';
import { activeService, instantParam, knownId } from './booking-input.ts';
import { loadAvailabilityAt } from './find-availability.ts';
import type { SchedulingSettings } from './scheduling-settings.ts';

// Moving an Appointment to a new time, inside the caller's transaction, all or nothing:
// - The old appointment is cancelled and the new one inserted in one savepoint; if the new time
//   cannot be had (outside the rules, or someone holds or booked it), the savepoint is rolled back
//   and the old appointment stands untouched (AppError conflict). The caller's transaction stays
//   usable either way.
// - The appointment being moved does not block its own new time (10:00 → 10:30 on the same
//   resource is a move, not a conflict): it is cancelled before the new time is checked.
// - Both resources are locked first, in id order, like place-hold.ts: writers of one resource take
//   turns, so a concurrent hold or booking of the new time either waits and then fails, or wins
//   and the move fails — never both.
// - The exclusion constraint stays the final guarantee against a double booking.
// - A move records nmc.scheduling.AppointmentRescheduled (the new appointment, and the one it
//   replaces) in the same transaction.

export type MoveAppointmentInput = {
  tenantId: string;
  appointmentId: string;
  /** The resource of the new time; the appointment's own by default. */
  resourceId?: string;
  /** RFC 3339; must be a start that availability offers once the old appointment is set aside. */
  start: string;
  now: string;
  settings: SchedulingSettings;
  conversationId?: string | null;
  /** The new appointment's id; a new UUID by default. */
  id?: string;
  trace?: EventTrace;
};

export type MovedAppointment = { appointment: AppointmentView; previous: AppointmentView };

export async function moveAppointment(
  client: Queryable,
  input: MoveAppointmentInput,
): Promise<MovedAppointment> {
  const { tenantId, now } = input;
  const startMs = instantParam('start', input.start);
  instantParam('now', now);
  const oldId = knownId('appointment', input.appointmentId);
  const old = await findReservation(client, tenantId, oldId);
  if (old === null || old.kind !== 'appointment') throw new AppError('not_found', 'appointment not found');
  const newResourceId = knownId('resource', input.resourceId ?? old.resource_id);
  if (old.status !== 'live') throw new AppError('conflict', 'that appointment was cancelled');
  const service = await activeService(client, tenantId, old.service_id);

  for (const id of [...new Set([old.resource_id, newResourceId])].sort()) {
    if ((await lockResource(client, tenantId, id)) === null)
      throw new AppError('not_found', 'resource not found');
  }
  const resource = await lockResource(client, tenantId, newResourceId);
  if (resource === null) throw new AppError('not_found', 'resource not found');

  const start = formatInstant(startMs);
  const end = formatInstant(startMs + service.duration_minutes * MINUTE_MS);
  await client.query('SAVEPOINT sched_move');
  try {
    const previous = await cancelLiveAppointment(client, tenantId, oldId, now);
    if (previous === null) throw new AppError('conflict', 'that appointment was cancelled');
    const availability = await loadAvailabilityAt(client, {
      tenantId,
      durationMinutes: service.duration_minutes,
      resource,
      startMs,
      now,
      settings: input.settings,
    });
    if (availability === null || computeAvailability(availability).length === 0) {
      throw new AppError('conflict', 'that time is no longer available');
    }
    const moved = await tryInsertReservation(client, {
      tenantId,
      id: input.id ?? randomUUID(),
      resourceId: resource.id,
      serviceId: service.id,
      conversationId: input.conversationId ?? old.conversation_id,
      kind: 'appointment',
      start,
      end,
      expiresAt: null,
      now,
    });
    if (moved === null) throw new AppError('conflict', 'that time is no longer available');
    await continueBooking(client, tenantId, moved.id, previous.id);
    await recordAppointmentEvent(client, {
      tenantId,
      name: 'nmc.scheduling.AppointmentRescheduled',
      payload: {
        ...appointmentFacts(moved),
        previous_id: previous.id,
        previous_resource_id: previous.resource_id,
        previous_start: previous.start,
        previous_end: previous.end,
      },
      at: now,
      trace: input.trace,
    });
    await client.query('RELEASE SAVEPOINT sched_move');
    return { appointment: appointmentView(moved), previous: appointmentView(previous) };
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT sched_move');
    await client.query('RELEASE SAVEPOINT sched_move');
    throw err;
  }
}
