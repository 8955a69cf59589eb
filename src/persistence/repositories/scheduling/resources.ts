import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HoursException, LocalInterval, WeeklyHours } from '../../../domain/availability.ts';
import { AppError } from '../../../domain/errors.ts';
import { formatInstant } from '../../../domain/instant.ts';
import { zoneOf } from '../../../domain/wall-time.ts';
import type { Queryable } from '../../db.ts';
import { pgCode } from './sql-values.ts';

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
//
// This file: resources, their weekly hours and dated exceptions, external busy blocks, the policy rows.

export type CalendarKind = 'internal' | 'google' | 'jobber';

export type Resource = {
  id: string;
  name: string;
  time_zone: string;
  calendar_kind: CalendarKind;
  weekly_hours: WeeklyHours;
};

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
/** An interval's end may also be the end of the day. */
const HHMM_OR_END_OF_DAY = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;

function minutesOf(hhmm: string): number {
  return hhmm === '24:00' ? 24 * 60 : Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

export const localIntervalSchema = z
  .object({
    start: z.string().regex(HHMM, 'must be a local time HH:MM').describe('local wall-clock time, HH:MM'),
    end: z
      .string()
      .regex(HHMM_OR_END_OF_DAY, 'must be a local time HH:MM (or 24:00)')
      .describe('local wall-clock time, HH:MM, after start; 24:00 ends the day'),
  })
  .meta({ example: { start: '08:00', end: '17:00' } })
  .refine((i) => minutesOf(i.end) > minutesOf(i.start), 'an interval must end after it starts');

export const intervalsSchema = z.array(localIntervalSchema).max(12);

export const weeklyHoursSchema = z.partialRecord(
  z.enum(['1', '2', '3', '4', '5', '6', '7']),
  intervalsSchema,
);

const timeZoneSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z][A-Za-z0-9_+\-/]*$/, 'must be an IANA time zone')
  .refine((tz) => zoneOf(tz) !== null, 'must be an IANA time zone')
  .describe('an IANA time zone name, e.g. America/Los_Angeles (the zone database names, not abbreviations)')
  .meta({ example: 'America/Los_Angeles' });

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
    `${EXCEPTIONS_IN_DATES} ORDER BY resource_id, date`,
    [tenantId, resourceIds, fromDate, toDate],
  );
  return rows;
}

/** Exceptions of the resources $2 of tenant $1 between the local dates $3 and $4 (inclusive). */
const EXCEPTIONS_IN_DATES = `SELECT resource_id, to_char(date, 'YYYY-MM-DD') AS date, intervals FROM sched_exceptions
  WHERE tenant_id = $1 AND resource_id = ANY($2::uuid[]) AND date BETWEEN $3::date AND $4::date`;

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
 * What availability reads, in one round trip: the resources' dated exceptions between two local
 * dates (inclusive, as listExceptions), and what blocks their time in [from, to) — live
 * appointments, live holds that have not expired at `now`, and mirrored external busy blocks —
 * sorted by start.
 */
export async function listExceptionsAndBusy(
  db: Queryable,
  tenantId: string,
  resourceIds: readonly string[],
  dates: { from: string; to: string },
  window: { from: string; to: string; now: string },
): Promise<{ exceptions: ResourceException[]; busy: BusyInterval[] }> {
  const { rows } = await db.query<{
    exceptions: ResourceException[];
    busy: { resource_id: string; start_ms: number; end_ms: number }[];
  }>(
    `SELECT
       (SELECT coalesce(json_agg(e ORDER BY e.resource_id, e.date), '[]') FROM (${EXCEPTIONS_IN_DATES}) e) AS exceptions,
       (SELECT coalesce(json_agg(json_build_object(
                 'resource_id', b.resource_id,
                 'start_ms', floor(extract(epoch FROM b.start) * 1000)::bigint,
                 'end_ms', floor(extract(epoch FROM b.end) * 1000)::bigint) ORDER BY b.start, b.resource_id), '[]') FROM (
          SELECT resource_id, lower(timeslot) AS start, upper(timeslot) AS end FROM sched_reservations
          WHERE tenant_id = $1 AND resource_id = ANY($2::uuid[]) AND status = 'live'
            AND timeslot && tstzrange($5::timestamptz, $6::timestamptz, '[)')
            AND (kind = 'appointment' OR expires_at > $7::timestamptz)
          UNION ALL
          SELECT resource_id, lower(timeslot), upper(timeslot) FROM sched_external_busy
          WHERE tenant_id = $1 AND resource_id = ANY($2::uuid[])
            AND timeslot && tstzrange($5::timestamptz, $6::timestamptz, '[)')) b) AS busy`,
    [tenantId, resourceIds, dates.from, dates.to, window.from, window.to, window.now],
  );
  const row = rows[0];
  return {
    exceptions: row?.exceptions ?? [],
    // Instants cross as epoch milliseconds (what the driver's Date would hold), out as UTC with `Z`.
    busy: (row?.busy ?? []).map((b) => ({
      resource_id: b.resource_id,
      start: formatInstant(b.start_ms),
      end: formatInstant(b.end_ms),
    })),
  };
}

export type PolicyRow = { key: string; value: unknown };

/** The platform's and then the tenant's `scheduling.*` policy rows, in that order. */
export async function loadSchedulingPolicyRows(db: Queryable, tenantId: string): Promise<PolicyRow[]> {
  const { rows } = await db.query<PolicyRow>(
    `SELECT key, value FROM policy_values
     WHERE (tenant_id IS NULL OR tenant_id = $1) AND key LIKE 'scheduling.%'
     ORDER BY tenant_id NULLS FIRST, key`,
    [tenantId],
  );
  return rows;
}
