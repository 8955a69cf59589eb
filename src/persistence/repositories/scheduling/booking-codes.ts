import type { Queryable } from '../../db.ts';
import { iso } from './sql-values.ts';

// Public booking: the customer of a hold (and the names customers booked under) and its texted code.

/** Records who holds the slot (a public hold); the appointment it becomes keeps them. */
export async function setReservationCustomer(
  db: Queryable,
  tenantId: string,
  id: string,
  customer: { name: string; phone: string },
): Promise<void> {
  await db.query(
    'UPDATE sched_reservations SET customer_name = $3, customer_phone = $4 WHERE tenant_id = $1 AND id = $2',
    [tenantId, id, customer.name, customer.phone],
  );
}

/**
 * The names customers gave when they booked, for the inbox to show a caller by name: phone → the
 * latest name that phone booked under in this tenant.
 */
export async function customerNamesOf(
  db: Queryable,
  tenantId: string,
  phones: string[],
): Promise<Map<string, string>> {
  if (phones.length === 0) return new Map();
  const { rows } = await db.query<{ customer_phone: string; customer_name: string }>(
    `SELECT DISTINCT ON (customer_phone) customer_phone, customer_name
     FROM sched_reservations
     WHERE tenant_id = $1 AND customer_phone = ANY($2::text[]) AND customer_name IS NOT NULL
     ORDER BY customer_phone, created_at DESC`,
    [tenantId, phones],
  );
  return new Map(rows.map((r) => [r.customer_phone, r.customer_name]));
}

/** The phone's live, unexpired holds in the tenant: how many, and when the first of them lapses. */
export async function liveCustomerHolds(
  db: Queryable,
  tenantId: string,
  phone: string,
  now: string,
): Promise<{ count: number; firstExpiry: string | null }> {
  const { rows } = await db.query<{ count: number; first_expiry: Date | null }>(
    `SELECT count(*)::int AS count, min(expires_at) AS first_expiry FROM sched_reservations
     WHERE tenant_id = $1 AND customer_phone = $2 AND kind = 'hold' AND status = 'live'
       AND expires_at > $3::timestamptz`,
    [tenantId, phone, now],
  );
  const row = rows[0];
  return { count: row?.count ?? 0, firstExpiry: row?.first_expiry ? iso(row.first_expiry) : null };
}

export async function insertBookingCode(
  db: Queryable,
  code: { tenantId: string; holdId: string; codeHash: string },
): Promise<void> {
  await db.query('INSERT INTO sched_booking_codes (tenant_id, hold_id, code_hash) VALUES ($1, $2, $3)', [
    code.tenantId,
    code.holdId,
    code.codeHash,
  ]);
}

/** The hold's code record, locked until the transaction ends (tries of one hold take turns); null when it has none. */
export async function lockBookingCode(
  db: Queryable,
  tenantId: string,
  holdId: string,
): Promise<{ code_hash: string; failed_attempts: number } | null> {
  const { rows } = await db.query<{ code_hash: string; failed_attempts: number }>(
    'SELECT code_hash, failed_attempts FROM sched_booking_codes WHERE tenant_id = $1 AND hold_id = $2 FOR UPDATE',
    [tenantId, holdId],
  );
  return rows[0] ?? null;
}

/** Counts one wrong code; returns the wrong codes so far. */
export async function recordWrongBookingCode(
  db: Queryable,
  tenantId: string,
  holdId: string,
): Promise<number> {
  const { rows } = await db.query<{ failed_attempts: number }>(
    `UPDATE sched_booking_codes SET failed_attempts = failed_attempts + 1
     WHERE tenant_id = $1 AND hold_id = $2 RETURNING failed_attempts`,
    [tenantId, holdId],
  );
  return rows[0]?.failed_attempts ?? 0;
}
