import { AppError } from '../../domain/errors.ts';
import type { Queryable } from '../../persistence/db.ts';
import { findReservation, releaseLiveHold } from '../../persistence/repositories/scheduling/holds.ts';
import { type HoldView, holdView } from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { instantParam, knownId } from './booking-input.ts';

// Letting a Hold go (DELETE /holds/:id, or the caller chose another time). Releasing a hold that is
// already released is harmless and returns it; a hold that became an appointment is not a hold any
// more (conflict: cancel the appointment instead); an unknown or foreign id is not_found.

export async function releaseHold(
  client: Queryable,
  input: { tenantId: string; holdId: string; now: string },
): Promise<HoldView & { status: 'released' }> {
  instantParam('now', input.now);
  const holdId = knownId('hold', input.holdId);
  const released = await releaseLiveHold(client, input.tenantId, holdId, input.now, 'released');
  if (released !== null) return { ...holdView(released), status: 'released' };
  const current = await findReservation(client, input.tenantId, holdId);
  if (current === null) throw new AppError('not_found', 'hold not found');
  if (current.kind === 'appointment') throw new AppError('conflict', 'that hold is already an appointment');
  return { ...holdView(current), status: 'released' };
}
