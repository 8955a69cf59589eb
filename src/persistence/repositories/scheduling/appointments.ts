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

/** Live appointments that ended before `endedBefore` (and after `since`) with no outcome yet, oldest first. */
export async function listUnmarkedEnded(
  db: Queryable,
  input: { endedBefore: string; since: string; limit: number },
): Promise<{ tenant_id: string; id: string; end: string }[]> {
  const { rows } = await db.query<{ tenant_id: string; id: string; end: Date }>(
    `SELECT tenant_id, id, upper(timeslot) AS end FROM sched_reservations
     WHERE kind = 'appointment' AND status = 'live' AND outcome IS NULL
       AND upper(timeslot) < $1::timestamptz AND upper(timeslot) >= $2::timestamptz
     ORDER BY upper(timeslot) LIMIT $3`,
    [input.endedBefore, input.since, input.limit],
  );
  return rows.map((r) => ({ tenant_id: r.tenant_id, id: r.id, end: r.end.toISOString() }));
}

/**
 * A moved appointment continues its booking: it takes the booking's id (the first appointment's)
 * and the customer of the public page, if any.
 */
export async function continueBooking(
  db: Queryable,
  tenantId: string,
  id: string,
  previousId: string,
): Promise<void> {
  await db.query(
    `UPDATE sched_reservations n
     SET booking_id = COALESCE(o.booking_id, o.id), customer_name = o.customer_name, customer_phone = o.customer_phone
     FROM sched_reservations o
     WHERE n.tenant_id = $1 AND n.id = $2 AND o.tenant_id = $1 AND o.id = $3`,
    [tenantId, id, previousId],
  );
}

/** The booking an appointment belongs to (its first appointment's id); null when unknown. */
export async function bookingOf(db: Queryable, tenantId: string, id: string): Promise<string | null> {
  const { rows } = await db.query<{ booking_id: string }>(
    `SELECT COALESCE(booking_id, id) AS booking_id FROM sched_reservations
     WHERE tenant_id = $1 AND id = $2 AND kind = 'appointment'`,
    [tenantId, id],
  );
  return rows[0]?.booking_id ?? null;
}

/** The booking's current appointment: its latest row (live, or cancelled if it ended so). */
export async function currentAppointmentOfBooking(
  db: Queryable,
  tenantId: string,
  bookingId: string,
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM sched_reservations
     WHERE tenant_id = $1 AND COALESCE(booking_id, id) = $2 AND kind = 'appointment'
     ORDER BY (status = 'live') DESC, created_at DESC LIMIT 1`,
    [tenantId, bookingId],
  );
  return first(rows);
}
