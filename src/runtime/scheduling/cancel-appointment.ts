import { AppError } from '../../domain/errors.ts';
import type { Queryable } from '../../persistence/db.ts';
import { cancelLiveAppointment } from '../../persistence/repositories/scheduling/appointments.ts';
import { findReservation } from '../../persistence/repositories/scheduling/holds.ts';
import {
  type AppointmentView,
  appointmentView,
} from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { appointmentFacts, type EventTrace, recordAppointmentEvent } from './appointment-events.ts';
import { instantParam, knownId } from './booking-input.ts';

// Cancelling an Appointment frees its slot at once (a cancelled row is outside the exclusion
// constraint). Cancelling twice is harmless and returns the cancelled appointment; an unknown or
// foreign id, or the id of a hold, is not_found (a hold is released, not cancelled). The cancelling
// records nmc.scheduling.AppointmentCancelled in the same transaction (once: not when repeated).

export async function cancelAppointment(
  client: Queryable,
  input: { tenantId: string; appointmentId: string; now: string; trace?: EventTrace },
): Promise<AppointmentView> {
  instantParam('now', input.now);
  const id = knownId('appointment', input.appointmentId);
  const cancelled = await cancelLiveAppointment(client, input.tenantId, id, input.now);
  if (cancelled !== null) {
    await recordAppointmentEvent(client, {
      tenantId: input.tenantId,
      name: 'nmc.scheduling.AppointmentCancelled',
      payload: appointmentFacts(cancelled),
      at: input.now,
      trace: input.trace,
    });
    return appointmentView(cancelled);
  }
  const current = await findReservation(client, input.tenantId, id);
  if (current === null || current.kind !== 'appointment')
    throw new AppError('not_found', 'appointment not found');
  return appointmentView(current);
}
