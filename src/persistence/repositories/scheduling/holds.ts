import type { Queryable } from '../../db.ts';
import {
  first,
  RESERVATION_COLUMNS,
  type Reservation,
  type ReservationRow,
  toReservation,
  unlessDoubleBooked,
} from './reservation-rows.ts';

// Holds: finding, placing, converting and releasing the short-lived reservation of a slot.

export async function findReservation(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM sched_reservations WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return first(rows);
}

/**
 * Releases (reason 'expired') the live holds of the resource that overlap [start, end) and have
 * expired at `now`. Rows are locked in id order so two writers never wait on each other in a cycle.
 */
export async function releaseExpiredOverlappingHolds(
  db: Queryable,
  slot: { tenantId: string; resourceId: string; start: string; end: string; now: string },
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH expired AS (
       SELECT id FROM sched_reservations
       WHERE tenant_id = $1 AND resource_id = $2 AND kind = 'hold' AND status = 'live'
         AND expires_at <= $5::timestamptz
         AND timeslot && tstzrange($3::timestamptz, $4::timestamptz, '[)')
       ORDER BY id
       FOR UPDATE
     )
     UPDATE sched_reservations r
     SET status = 'released', release_reason = 'expired', released_at = $5::timestamptz
     FROM expired
     WHERE r.tenant_id = $1 AND r.id = expired.id AND r.status = 'live'
     RETURNING r.id`,
    [slot.tenantId, slot.resourceId, slot.start, slot.end, slot.now],
  );
  return rows.map((r) => r.id);
}

export type NewReservation = {
  tenantId: string;
  id: string;
  resourceId: string;
  serviceId: string;
  conversationId: string | null;
  kind: 'hold' | 'appointment';
  start: string;
  end: string;
  expiresAt: string | null;
  now: string;
};

/** Inserts a live hold or appointment; null when the slot is taken (the transaction stays usable). */
export async function tryInsertReservation(
  client: Queryable,
  r: NewReservation,
): Promise<Reservation | null> {
  return unlessDoubleBooked(client, async () => {
    const { rows } = await client.query<ReservationRow>(
      `INSERT INTO sched_reservations
         (tenant_id, id, resource_id, service_id, conversation_id, kind, status, timeslot, expires_at,
          created_at, confirmed_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'live', tstzrange($7::timestamptz, $8::timestamptz, '[)'), $9,
               $10::timestamptz, CASE WHEN $6 = 'appointment' THEN $10::timestamptz END)
       RETURNING ${RESERVATION_COLUMNS}`,
      [
        r.tenantId,
        r.id,
        r.resourceId,
        r.serviceId,
        r.conversationId,
        r.kind,
        r.start,
        r.end,
        r.expiresAt,
        r.now,
      ],
    );
    return first(rows);
  });
}

/**
 * Turns a live, unexpired hold into an appointment in one UPDATE of its row: the row stays live
 * throughout, so the slot is never free in between. Null when the row is not such a hold.
 */
export async function convertLiveHold(
  db: Queryable,
  tenantId: string,
  id: string,
  now: string,
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `UPDATE sched_reservations SET kind = 'appointment', expires_at = NULL, confirmed_at = $3::timestamptz
     WHERE tenant_id = $1 AND id = $2 AND kind = 'hold' AND status = 'live' AND expires_at > $3::timestamptz
     RETURNING ${RESERVATION_COLUMNS}`,
    [tenantId, id, now],
  );
  return first(rows);
}

/**
 * Books the slot of an expired hold as an appointment, in the hold's own row: a hold still marked
 * live (its expiry not yet processed) is converted in place (nothing else can overlap a live row);
 * one released for expiry becomes live again if the slot is still free. Null when the slot is
 * taken, or the row is not an expired hold (the transaction stays usable).
 */
export async function tryConvertExpiredHold(
  client: Queryable,
  tenantId: string,
  id: string,
  now: string,
): Promise<Reservation | null> {
  return unlessDoubleBooked(client, async () => {
    const { rows } = await client.query<ReservationRow>(
      `UPDATE sched_reservations
       SET kind = 'appointment', status = 'live', expires_at = NULL, confirmed_at = $3::timestamptz,
           release_reason = NULL, released_at = NULL
       WHERE tenant_id = $1 AND id = $2 AND kind = 'hold' AND expires_at <= $3::timestamptz
         AND (status = 'live' OR release_reason = 'expired')
       RETURNING ${RESERVATION_COLUMNS}`,
      [tenantId, id, now],
    );
    return first(rows);
  });
}

/** Releases a live hold (expired or not); null when it is not a live hold. */
export async function releaseLiveHold(
  db: Queryable,
  tenantId: string,
  id: string,
  now: string,
  reason: 'expired' | 'released',
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `UPDATE sched_reservations SET status = 'released', release_reason = $4, released_at = $3::timestamptz
     WHERE tenant_id = $1 AND id = $2 AND kind = 'hold' AND status = 'live'
     RETURNING ${RESERVATION_COLUMNS}`,
    [tenantId, id, now, reason],
  );
  return first(rows);
}

/** Releases the hold only if it is live and expired at `now`; null otherwise. */
export async function releaseHoldIfExpired(
  db: Queryable,
  tenantId: string,
  id: string,
  now: string,
): Promise<Reservation | null> {
  const { rows } = await db.query<ReservationRow>(
    `UPDATE sched_reservations
     SET status = 'released', release_reason = 'expired', released_at = $3::timestamptz
     WHERE tenant_id = $1 AND id = $2 AND kind = 'hold' AND status = 'live' AND expires_at <= $3::timestamptz
     RETURNING ${RESERVATION_COLUMNS}`,
    [tenantId, id, now],
  );
  return first(rows);
}

/**
 * The holds that block time now: live, not expired at `now`, overlapping [from, to), optionally of
 * one resource; by start then id, at most `limit`, after the keyset `after` when given.
 */
export async function listLiveHolds(
  db: Queryable,
  tenantId: string,
  q: {
    from: string;
    to: string;
    now: string;
    resourceId?: string;
    limit: number;
    after?: { start: string; id: string };
  },
): Promise<Reservation[]> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM sched_reservations
     WHERE tenant_id = $1 AND kind = 'hold' AND status = 'live' AND expires_at > $4::timestamptz
       AND timeslot && tstzrange($2::timestamptz, $3::timestamptz, '[)')
       AND ($5::uuid IS NULL OR resource_id = $5::uuid)
       AND ($7::timestamptz IS NULL OR (lower(timeslot), id) > ($7::timestamptz, $8::uuid))
     ORDER BY lower(timeslot), id
     LIMIT $6`,
    [
      tenantId,
      q.from,
      q.to,
      q.now,
      q.resourceId ?? null,
      q.limit,
      q.after?.start ?? null,
      q.after?.id ?? null,
    ],
  );
  return rows.map(toReservation);
}
