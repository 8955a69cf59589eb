import type { Queryable } from '../../db.ts';
import { iso, isoOrNull, pgCode } from './sql-values.ts';

// Reservations (holds and appointments share one table, sched_reservations): the row shape, the
// views the API answers, and the SAVEPOINT guard every statement that may double-book runs in.

export type Reservation = {
  id: string;
  resource_id: string;
  service_id: string;
  conversation_id: string | null;
  kind: 'hold' | 'appointment';
  status: 'live' | 'released' | 'cancelled';
  release_reason: 'expired' | 'released' | null;
  start: string;
  end: string;
  expires_at: string | null;
  created_at: string;
  confirmed_at: string | null;
  cancelled_at: string | null;
  /** What became of a live appointment once its time came; null until an operator marks it. */
  outcome: 'completed' | 'no_show' | null;
  outcome_at: string | null;
  /** Who booked through the public page (both or neither). */
  customer_name: string | null;
  customer_phone: string | null;
};

/** The hold as the API shows it. */
export type HoldView = { id: string; resource_id: string; start: string; end: string; expires_at: string };

/**
 * The appointment as the API shows it: a live appointment is `confirmed` until an operator marks
 * its outcome (`completed` or `no_show`).
 */
export type AppointmentView = {
  id: string;
  resource_id: string;
  service_id: string;
  start: string;
  end: string;
  status: AppointmentStatus;
};

export const APPOINTMENT_STATUSES = ['confirmed', 'cancelled', 'completed', 'no_show'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export function holdView(r: Reservation): HoldView {
  if (r.expires_at === null) throw new Error(`reservation ${r.id} is not a hold`);
  return { id: r.id, resource_id: r.resource_id, start: r.start, end: r.end, expires_at: r.expires_at };
}

export function appointmentView(r: Reservation): AppointmentView {
  return {
    id: r.id,
    resource_id: r.resource_id,
    service_id: r.service_id,
    start: r.start,
    end: r.end,
    status: r.status === 'cancelled' ? 'cancelled' : (r.outcome ?? 'confirmed'),
  };
}

export type ReservationRow = Omit<
  Reservation,
  'start' | 'end' | 'expires_at' | 'created_at' | 'confirmed_at' | 'cancelled_at' | 'outcome_at'
> & {
  start: Date;
  end: Date;
  expires_at: Date | null;
  created_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  outcome_at: Date | null;
};

export const RESERVATION_COLUMNS = `id, resource_id, service_id, conversation_id, kind, status, release_reason,
  lower(timeslot) AS start, upper(timeslot) AS end, expires_at, created_at, confirmed_at, cancelled_at,
  outcome, outcome_at, customer_name, customer_phone`;

export function toReservation(row: ReservationRow): Reservation {
  return {
    ...row,
    start: iso(row.start),
    end: iso(row.end),
    expires_at: isoOrNull(row.expires_at),
    created_at: iso(row.created_at),
    confirmed_at: isoOrNull(row.confirmed_at),
    cancelled_at: isoOrNull(row.cancelled_at),
    outcome_at: isoOrNull(row.outcome_at),
  };
}

export function first(rows: ReservationRow[]): Reservation | null {
  return rows[0] ? toReservation(rows[0]) : null;
}

/**
 * Runs one statement that may violate `no_double_booking` inside a savepoint: null when it did
 * (the savepoint is rolled back and the transaction goes on), its result otherwise.
 */
export async function unlessDoubleBooked<T>(client: Queryable, work: () => Promise<T>): Promise<T | null> {
  await client.query('SAVEPOINT sched_reserve');
  try {
    const result = await work();
    await client.query('RELEASE SAVEPOINT sched_reserve');
    return result;
  } catch (err) {
    if (pgCode(err) !== '23P01') throw err;
    await client.query('ROLLBACK TO SAVEPOINT sched_reserve');
    await client.query('RELEASE SAVEPOINT sched_reserve');
    return null;
  }
}
