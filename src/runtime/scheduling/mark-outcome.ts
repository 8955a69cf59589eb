import { AppError } from '../../domain/errors.ts';
import type { Queryable } from '../../persistence/db.ts';
import { markLiveAppointmentOutcome } from '../../persistence/repositories/scheduling/appointments.ts';
import { findReservation } from '../../persistence/repositories/scheduling/holds.ts';
import {
  type AppointmentView,
  appointmentView,
} from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { appointmentFacts, type EventTrace, recordAppointmentEvent } from './appointment-events.ts';
import { instantParam, knownId } from './booking-input.ts';

// Marking what became of an appointment: the customer was served (completed) or did not come
// (no_show). Decisions:
// - Only once its start has passed (conflict before): an outcome is a fact about the visit.
// - Only a live appointment (a cancelled one is conflict; a hold, unknown or foreign id: not_found).
// - Marking the same outcome again changes nothing and records nothing; marking the other one
//   corrects the mistake and records it.

export type AppointmentOutcome = 'completed' | 'no_show';

export async function markAppointmentOutcome(
  client: Queryable,
  input: {
    tenantId: string;
    appointmentId: string;
    outcome: AppointmentOutcome;
    now: string;
    trace?: EventTrace;
    /** Leave an outcome someone already marked as it is (the automatic completion). */
    onlyIfUnmarked?: boolean;
  },
): Promise<AppointmentView> {
  const nowMs = instantParam('now', input.now);
  const id = knownId('appointment', input.appointmentId);
  const current = await findReservation(client, input.tenantId, id);
  if (current === null || current.kind !== 'appointment')
    throw new AppError('not_found', 'appointment not found');
  if (current.status !== 'live') throw new AppError('conflict', 'that appointment was cancelled');
  if (Date.parse(current.start) > nowMs) {
    throw new AppError('conflict', 'an outcome can be marked once the appointment has started');
  }
  if (current.outcome === input.outcome) return appointmentView(current);
  if (input.onlyIfUnmarked && current.outcome !== null) return appointmentView(current);
  const marked = await markLiveAppointmentOutcome(client, input.tenantId, id, input.outcome, input.now);
  if (marked === null) throw new AppError('conflict', 'that appointment was cancelled');
  await recordAppointmentEvent(client, {
    tenantId: input.tenantId,
    name: 'nmc.scheduling.AppointmentOutcomeMarked',
    payload: { ...appointmentFacts(marked), outcome: input.outcome },
    at: input.now,
    trace: input.trace,
  });
  return appointmentView(marked);
}
