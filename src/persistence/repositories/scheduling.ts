import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HoursException, LocalInterval, WeeklyHours } from '../../domain/availability.ts';
import { AppError } from '../../domain/errors.ts';
import { formatInstant } from '../../domain/instant.ts';
import { zoneOf } from '../../domain/wall-time.ts';
import type { Queryable } from '../db.ts';

// The scheduling module (`sched_*`): Resources with weekly hours and dated exceptions, the mirrored
// external busy blocks, and reservations (holds and appointments in one table, see
// migrations/0004_scheduling.sql for the exclusion constraint that forbids double booking).
// Decisions that must stay true:
// - Every query is scoped by tenant_id; an id of another tenant behaves exactly like an unknown id.
// - A statement that may violate `no_double_booking` runs inside a SAVEPOINT, so a conflict (23P01)
//   comes back as a result and leaves the caller's transaction usable (the conversation runtime
//   answers "that time was just taken" in the same transaction).
// - An expired hold (expires_at <= now) is never reported busy, whatever its status says.
// - Times go in as RFC 3339 strings and come out in UTC with `Z` (formatInstant).

export type CalendarKind = 'internal' | 'google' | 'jobber';

export type Resource = {
  id: string;
  name: string;
  time_zone: string;
  calendar_kind: CalendarKind;
  weekly_hours: WeeklyHours;
};

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

function minutesOf(hhmm: string): number {
  return hhmm === '24:00' ? 24 * 60 : Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

export const localIntervalSchema = z
  .object({
    start: z.string().regex(HHMM, 'must be a local time HH:MM'),
    end: z.string().refine((v) => v === '24:00' || HHMM.test(v), 'must be a local time HH:MM (or 24:00)'),
  })
  .refine((i) => minutesOf(i.end) > minutesOf(i.start), 'an interval must end after it starts');

export const intervalsSchema = z.array(localIntervalSchema).max(12);

export const weeklyHoursSchema = z.partialRecord(
  z.enum(['1', '2', '3', '4', '5', '6', '7']),
  intervalsSchema,
);

const timeZoneSchema = z
  .string()
  .min(1)
  .refine((tz) => zoneOf(tz) !== null, 'must be an IANA time zone');

const resourceFields = {
  name: z.string().trim().min(1).max(200),
  time_zone: timeZoneSchema,
  calendar_kind: z.enum(['internal', 'google', 'jobber']),
  weekly_hours: weeklyHoursSchema,
};

export const resourceInputSchema = z.object({
  ...resourceFields,
  calendar_kind: resourceFields.calendar_kind.default('internal'),
  weekly_hours: resourceFields.weekly_hours.default({}),
});
export type ResourceInput = z.input<typeof resourceInputSchema>;

// No defaults here: a field left out of a patch keeps its stored value.
export const resourcePatchSchema = z.object(resourceFields).partial();
export type ResourcePatch = z.input<typeof resourcePatchSchema>;

const ISO_DATE = z.iso.date();

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = [what, ...(issue?.path ?? []).map(String)].join('.');
  throw new AppError('validation_failed', `${where}: ${issue?.message ?? 'invalid value'}`);
}

function pgCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

const RESOURCE_COLUMNS = 'id, name, time_zone, calendar_kind, weekly_hours';

export async function listResources(db: Queryable, tenantId: string): Promise<Resource[]> {
  const { rows } = await db.query<Resource>(
    `SELECT ${RESOURCE_COLUMNS} FROM sched_resources WHERE tenant_id = $1 ORDER BY lower(name), id`,
    [tenantId],
  );
  return rows;
}

export async function getResource(db: Queryable, tenantId: string, id: string): Promise<Resource | null> {
  const { rows } = await db.query<Resource>(
    `SELECT ${RESOURCE_COLUMNS} FROM sched_resources WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/**
 * Reads the resource and locks it until the transaction ends. Every write that can make a row live
 * (placing a hold, confirming one) takes this lock first: writers of one resource queue here instead
 * of deadlocking on each other's rows inside the exclusion check, and the availability they read
 * after it is current. The exclusion constraint stays the guarantee; the lock only orders the work.
 * FOR NO KEY UPDATE does not block the foreign-key checks of reservation inserts.
 */
export async function lockResource(db: Queryable, tenantId: string, id: string): Promise<Resource | null> {
  const { rows } = await db.query<Resource>(
    `SELECT ${RESOURCE_COLUMNS} FROM sched_resources WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

export async function createResource(
  db: Queryable,
  tenantId: string,
  input: ResourceInput,
  id: string = randomUUID(),
): Promise<Resource> {
  const r = parse(resourceInputSchema, input, 'resource');
  const { rows } = await db.query<Resource>(
    `INSERT INTO sched_resources (tenant_id, id, name, time_zone, calendar_kind, weekly_hours)
     VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${RESOURCE_COLUMNS}`,
    [tenantId, id, r.name, r.time_zone, r.calendar_kind, JSON.stringify(r.weekly_hours)],
  );
  const row = rows[0];
  if (!row) throw new Error('resource insert returned nothing');
  return row;
}

/** Inserts the resource unless its id exists; for seeding. Returns whether it was created. */
export async function ensureResource(
  db: Queryable,
  tenantId: string,
  id: string,
  input: ResourceInput,
): Promise<boolean> {
  const r = parse(resourceInputSchema, input, 'resource');
  const { rowCount } = await db.query(
    `INSERT INTO sched_resources (tenant_id, id, name, time_zone, calendar_kind, weekly_hours)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, id) DO NOTHING`,
    [tenantId, id, r.name, r.time_zone, r.calendar_kind, JSON.stringify(r.weekly_hours)],
  );
  return rowCount === 1;
}

/** Applies the fields present in `patch` (weekly_hours replaces all days); null when unknown. */
export async function updateResource(
  db: Queryable,
  tenantId: string,
  id: string,
  patch: ResourcePatch,
): Promise<Resource | null> {
  const p = parse(resourcePatchSchema, patch, 'resource');
  const { rows } = await db.query<Resource>(
    `UPDATE sched_resources SET
       name = COALESCE($3, name),
       time_zone = COALESCE($4, time_zone),
       calendar_kind = COALESCE($5, calendar_kind),
       weekly_hours = COALESCE($6::jsonb, weekly_hours),
       updated_at = now()
     WHERE tenant_id = $1 AND id = $2
     RETURNING ${RESOURCE_COLUMNS}`,
    [
      tenantId,
      id,
      p.name ?? null,
      p.time_zone ?? null,
      p.calendar_kind ?? null,
      p.weekly_hours === undefined ? null : JSON.stringify(p.weekly_hours),
    ],
  );
  return rows[0] ?? null;
}

export type ResourceException = HoursException & { resource_id: string };

/** Dated exceptions of the resources between two local dates (inclusive, YYYY-MM-DD). */
export async function listExceptions(
  db: Queryable,
  tenantId: string,
  resourceIds: readonly string[],
  fromDate: string,
  toDate: string,
): Promise<ResourceException[]> {
  const { rows } = await db.query<{ resource_id: string; date: string; intervals: LocalInterval[] }>(
    `SELECT resource_id, to_char(date, 'YYYY-MM-DD') AS date, intervals FROM sched_exceptions
     WHERE tenant_id = $1 AND resource_id = ANY($2::uuid[]) AND date BETWEEN $3::date AND $4::date
     ORDER BY resource_id, date`,
    [tenantId, resourceIds, fromDate, toDate],
  );
  return rows;
}

/** Replaces the hours of one local date; an empty list closes the day. Unknown resource: not_found. */
export async function setException(
  db: Queryable,
  tenantId: string,
  resourceId: string,
  date: string,
  intervals: readonly LocalInterval[],
): Promise<void> {
  const day = parse(ISO_DATE, date, 'date');
  const list = parse(intervalsSchema, intervals, 'intervals');
  try {
    await db.query(
      `INSERT INTO sched_exceptions (tenant_id, resource_id, date, intervals) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, resource_id, date) DO UPDATE SET intervals = EXCLUDED.intervals`,
      [tenantId, resourceId, day, JSON.stringify(list)],
    );
  } catch (err) {
    if (pgCode(err) === '23503') throw new AppError('not_found', 'resource not found', { cause: err });
    throw err;
  }
}

export async function deleteException(
  db: Queryable,
  tenantId: string,
  resourceId: string,
  date: string,
): Promise<boolean> {
  const day = parse(ISO_DATE, date, 'date');
  const { rowCount } = await db.query(
    'DELETE FROM sched_exceptions WHERE tenant_id = $1 AND resource_id = $2 AND date = $3',
    [tenantId, resourceId, day],
  );
  return rowCount === 1;
}

export type ExternalBusyInput = {
  tenantId: string;
  resourceId: string;
  source: 'google' | 'jobber';
  externalId: string;
  start: string;
  end: string;
};

/** Mirrors one provider busy block, keyed by (resource, source, external id). */
export async function upsertExternalBusy(db: Queryable, busy: ExternalBusyInput): Promise<void> {
  await db.query(
    `INSERT INTO sched_external_busy (tenant_id, resource_id, id, timeslot, source, external_id)
     VALUES ($1, $2, $3, tstzrange($4::timestamptz, $5::timestamptz, '[)'), $6, $7)
     ON CONFLICT (tenant_id, resource_id, source, external_id)
     DO UPDATE SET timeslot = EXCLUDED.timeslot, updated_at = now()`,
    [busy.tenantId, busy.resourceId, randomUUID(), busy.start, busy.end, busy.source, busy.externalId],
  );
}

export type BusyInterval = { resource_id: string; start: string; end: string };

/**
 * What blocks the resources' time in [from, to): live appointments, live holds that have not
 * expired at `now`, and mirrored external busy blocks, sorted by start.
 */
export async function listBusy(
  db: Queryable,
  tenantId: string,
  resourceIds: readonly string[],
  from: string,
  to: string,
  now: string,
): Promise<BusyInterval[]> {
  const { rows } = await db.query<{ resource_id: string; start: Date; end: Date }>(
    `SELECT resource_id, lower(timeslot) AS start, upper(timeslot) AS end FROM sched_reservations
     WHERE tenant_id = $1 AND resource_id = ANY($2::uuid[]) AND status = 'live'
       AND timeslot && tstzrange($3::timestamptz, $4::timestamptz, '[)')
       AND (kind = 'appointment' OR expires_at > $5::timestamptz)
     UNION ALL
     SELECT resource_id, lower(timeslot), upper(timeslot) FROM sched_external_busy
     WHERE tenant_id = $1 AND resource_id = ANY($2::uuid[])
       AND timeslot && tstzrange($3::timestamptz, $4::timestamptz, '[)')
     ORDER BY 2, 1`,
    [tenantId, resourceIds, from, to, now],
  );
  return rows.map((r) => ({ resource_id: r.resource_id, start: iso(r.start), end: iso(r.end) }));
}

/** The platform's and then the tenant's `scheduling.*` policy rows, in that order. */
export async function loadSchedulingPolicyRows(
  db: Queryable,
  tenantId: string,
): Promise<{ key: string; value: unknown }[]> {
  const { rows } = await db.query<{ key: string; value: unknown }>(
    `SELECT key, value FROM policy_values
     WHERE (tenant_id IS NULL OR tenant_id = $1) AND key LIKE 'scheduling.%'
     ORDER BY tenant_id NULLS FIRST, key`,
    [tenantId],
  );
  return rows;
}

// ── Reservations ────────────────────────────────────────────────────────────────────────────────

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
  /** Who booked through the public page (both or neither). */
  customer_name: string | null;
  customer_phone: string | null;
};

/** The hold as the API shows it. */
export type HoldView = { id: string; resource_id: string; start: string; end: string; expires_at: string };

/** The appointment as the API shows it; a live appointment is `confirmed`. */
export type AppointmentView = {
  id: string;
  resource_id: string;
  service_id: string;
  start: string;
  end: string;
  status: 'confirmed' | 'cancelled';
};

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
    status: r.status === 'cancelled' ? 'cancelled' : 'confirmed',
  };
}

type ReservationRow = Omit<
  Reservation,
  'start' | 'end' | 'expires_at' | 'created_at' | 'confirmed_at' | 'cancelled_at'
> & {
  start: Date;
  end: Date;
  expires_at: Date | null;
  created_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
};

const RESERVATION_COLUMNS = `id, resource_id, service_id, conversation_id, kind, status, release_reason,
  lower(timeslot) AS start, upper(timeslot) AS end, expires_at, created_at, confirmed_at, cancelled_at,
  customer_name, customer_phone`;

function iso(d: Date): string {
  return formatInstant(d.getTime());
}

function isoOrNull(d: Date | null): string | null {
  return d === null ? null : iso(d);
}

function toReservation(row: ReservationRow): Reservation {
  return {
    ...row,
    start: iso(row.start),
    end: iso(row.end),
    expires_at: isoOrNull(row.expires_at),
    created_at: iso(row.created_at),
    confirmed_at: isoOrNull(row.confirmed_at),
    cancelled_at: isoOrNull(row.cancelled_at),
  };
}

function first(rows: ReservationRow[]): Reservation | null {
  return rows[0] ? toReservation(rows[0]) : null;
}

/**
 * Runs one statement that may violate `no_double_booking` inside a savepoint: null when it did
 * (the savepoint is rolled back and the transaction goes on), its result otherwise.
 */
async function unlessDoubleBooked<T>(client: Queryable, work: () => Promise<T>): Promise<T | null> {
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

// ── Public booking: the customer of a hold and its texted code ──────────────────────────────────

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
