import { AppError } from '../../domain/errors.ts';
import type { Queryable } from '../../persistence/db.ts';
import {
  convertLiveHold,
  findReservation,
  tryConvertExpiredHold,
} from '../../persistence/repositories/scheduling/holds.ts';
import {
  type AppointmentView,
  appointmentView,
  type Reservation,
} from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { lockResource } from '../../persistence/repositories/scheduling/resources.ts';
import { appointmentFacts, type EventTrace, recordAppointmentEvent } from './appointment-events.ts';
import { instantParam, knownId } from './booking-input.ts';

// Confirming a Hold into an Appointment, inside the caller's transaction. Decisions:
// - A live, unexpired hold becomes the appointment in ONE UPDATE of its own row: the row is live
//   before and after, so the slot is never free in between and no one can slip in.
// - A hold past its expires_at (whether or not anything released it yet) is booked again for the
//   same slot in this transaction if the slot is still free — in the same row, so the appointment
//   keeps the hold's id — and is AppError conflict if someone else holds or booked it since, or if
//   its start has passed.
// - A hold someone released on purpose is not revived: conflict.
// - Confirming an appointment that is already confirmed returns it (a retried confirm is harmless).
// - An unknown id, or another tenant's: not_found.
// - A confirmation that books records nmc.scheduling.AppointmentBooked in the same transaction.
// - The resource is locked first, like place-hold.ts, so confirms and placements of one resource
//   take turns instead of deadlocking inside the exclusion check.

export async function confirmHold(
  client: Queryable,
  input: { tenantId: string; holdId: string; now: string; trace?: EventTrace },
): Promise<AppointmentView> {
  const { tenantId, now } = input;
  const nowMs = instantParam('now', now);
  const holdId = knownId('hold', input.holdId);
  const found = await findReservation(client, tenantId, holdId);
  if (found === null) throw new AppError('not_found', 'hold not found');
  await lockResource(client, tenantId, found.resource_id);

  const booked = async (appointment: Reservation) => {
    await recordAppointmentEvent(client, {
      tenantId,
      name: 'nmc.scheduling.AppointmentBooked',
      payload: appointmentFacts(appointment),
      at: now,
      trace: input.trace,
    });
    return appointmentView(appointment);
  };

  const converted = await convertLiveHold(client, tenantId, holdId, now);
  if (converted !== null) return booked(converted);

  const current = await findReservation(client, tenantId, holdId);
  if (current === null) throw new AppError('not_found', 'hold not found');
  if (current.kind === 'appointment') {
    if (current.status === 'live') return appointmentView(current);
    throw new AppError('conflict', 'that appointment was cancelled');
  }
  if (current.status === 'released' && current.release_reason !== 'expired') {
    throw new AppError('conflict', 'that hold was released');
  }
  // Expired: book the same slot now if it is still free and still ahead.
  if (Date.parse(current.start) <= nowMs) throw new AppError('conflict', 'that time has passed');
  const rebooked = await tryConvertExpiredHold(client, tenantId, holdId, now);
  if (rebooked === null) throw new AppError('conflict', 'that time is no longer available');
  return booked(rebooked);
}
