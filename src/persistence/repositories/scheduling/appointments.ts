import type { Queryable } from '../../db.ts';
import {
  first,
  RESERVATION_COLUMNS,
  type Reservation,
  type ReservationRow,
  toReservation,
} from './reservation-rows.ts';

// Appointments: the operator's listing, cancelling a live appointment and marking its outcome.

export async function cancelLiveAppointment(
  db: Queryable,
  tenantId: string,
  id: string,
  now: string,
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `UPDATE sched_reservations SET status = 'cancelled', cancelled_at = $3::timestamptz
     WHERE tenant_id = $1 AND id = $2 AND kind = 'appointment' AND status = 'live'
     RETURNING ${RESERVATION_COLUMNS}`,
    [tenantId, id, now],
  );
  return first(rows);
}

/** Sets (or corrects) the outcome of a live appointment; null when it is not a live appointment. */
export async function markLiveAppointmentOutcome(
  db: Queryable,
  tenantId: string,
  id: string,
  outcome: 'completed' | 'no_show',
  now: string,
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `UPDATE sched_reservations SET outcome = $3, outcome_at = $4::timestamptz
     WHERE tenant_id = $1 AND id = $2 AND kind = 'appointment' AND status = 'live'
     RETURNING ${RESERVATION_COLUMNS}`,
    [tenantId, id, outcome, now],
  );
  return first(rows);
}

export type AppointmentQuery = {
  from: string;
  to: string;
  resourceId?: string;
  includeCancelled?: boolean;
  limit?: number;
  /** Keyset cursor: the (start, id) of the last appointment of the previous page. */
  after?: { start: string; id: string };
};

/** Appointments starting in [from, to), by start then id. */
export async function listAppointments(
  db: Queryable,
  tenantId: string,
  q: AppointmentQuery,
): Promise<Reservation[]> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM sched_reservations
     WHERE tenant_id = $1 AND kind = 'appointment'
       AND lower(timeslot) >= $2::timestamptz AND lower(timeslot) < $3::timestamptz
       AND ($4::uuid IS NULL OR resource_id = $4::uuid)
       AND (status = 'live' OR ($5::boolean AND status = 'cancelled'))
       AND ($6::timestamptz IS NULL OR (lower(timeslot), id) > ($6::timestamptz, $7::uuid))
     ORDER BY lower(timeslot), id
     LIMIT $8`,
    [
      tenantId,
      q.from,
      q.to,
      q.resourceId ?? null,
      q.includeCancelled ?? false,
      q.after?.start ?? null,
      q.after?.id ?? null,
      Math.min(Math.max(q.limit ?? 100, 1), 500),
    ],
  );
  return rows.map(toReservation);
}
