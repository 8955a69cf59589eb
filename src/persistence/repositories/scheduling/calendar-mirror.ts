import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db.ts';
import { iso } from './sql-values.ts';

// A linked calendar's mirror in `sched_external_busy` (its busy blocks, keyed by the calendar link
// and the provider's event id), our bookings written into calendars (`sched_calendar_events`) and
// the conflicts found between them (`sched_calendar_conflicts`).

export type MirrorBlock = { eventId: string; start: number; end: number };

/** The mirror's key of an event: unique per resource across every calendar linked to it. */
function externalKey(calendarId: string, eventId: string): string {
  return `${calendarId}:${eventId}`;
}

export async function listMirror(
  db: Queryable,
  tenantId: string,
  calendarId: string,
): Promise<MirrorBlock[]> {
  const { rows } = await db.query<{ external_id: string; start: Date; end: Date }>(
    `SELECT external_id, lower(timeslot) AS start, upper(timeslot) AS end FROM sched_external_busy
     WHERE tenant_id = $1 AND calendar_id = $2 ORDER BY lower(timeslot), external_id`,
    [tenantId, calendarId],
  );
  const prefix = `${calendarId}:`;
  return rows.map((r) => ({
    eventId: r.external_id.startsWith(prefix) ? r.external_id.slice(prefix.length) : r.external_id,
    start: r.start.getTime(),
    end: r.end.getTime(),
  }));
}

/**
 * Writes busy blocks; returns the event ids whose block is new or moved (a block that was already
 * there at the same times is not news: it cannot be a conflict found now).
 */
export async function upsertMirrorBlocks(
  db: Queryable,
  m: {
    tenantId: string;
    resourceId: string;
    calendarId: string;
    source: 'google' | 'jobber';
    blocks: MirrorBlock[];
  },
): Promise<string[]> {
  if (m.blocks.length === 0) return [];
  const { rows } = await db.query<{ external_id: string }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($5::jsonb) AS b(id uuid, external_id text, start_ms double precision, end_ms double precision)
     ), written AS (
       INSERT INTO sched_external_busy (tenant_id, resource_id, id, timeslot, source, external_id, calendar_id)
       SELECT $1, $2, b.id, tstzrange(to_timestamp(b.start_ms / 1000.0), to_timestamp(b.end_ms / 1000.0), '[)'), $4, b.external_id, $3
       FROM input b
       ON CONFLICT (tenant_id, resource_id, source, external_id) DO UPDATE
         SET timeslot = EXCLUDED.timeslot, calendar_id = EXCLUDED.calendar_id, updated_at = now()
         WHERE sched_external_busy.timeslot IS DISTINCT FROM EXCLUDED.timeslot
       RETURNING external_id
     )
     SELECT external_id FROM written`,
    [
      m.tenantId,
      m.resourceId,
      m.calendarId,
      m.source,
      JSON.stringify(
        m.blocks.map((b) => ({
          id: randomUUID(),
          external_id: externalKey(m.calendarId, b.eventId),
          start_ms: b.start,
          end_ms: b.end,
        })),
      ),
    ],
  );
  const prefix = `${m.calendarId}:`;
  return rows.map((r) => r.external_id.slice(prefix.length));
}

export async function deleteMirrorBlocks(
  db: Queryable,
  tenantId: string,
  calendarId: string,
  eventIds: readonly string[],
): Promise<number> {
  if (eventIds.length === 0) return 0;
  const { rowCount } = await db.query(
    'DELETE FROM sched_external_busy WHERE tenant_id = $1 AND calendar_id = $2 AND external_id = ANY($3::text[])',
    [tenantId, calendarId, eventIds.map((id) => externalKey(calendarId, id))],
  );
  return rowCount ?? 0;
}

export async function clearMirror(db: Queryable, tenantId: string, calendarId: string): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM sched_external_busy WHERE tenant_id = $1 AND calendar_id = $2',
    [tenantId, calendarId],
  );
  return rowCount ?? 0;
}

/** Mirrored blocks that ended before `before`: nothing reads them (availability looks ahead). */
export async function purgeEndedMirrorBlocks(db: Queryable, before: string): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM sched_external_busy WHERE calendar_id IS NOT NULL AND upper(timeslot) < $1::timestamptz',
    [before],
  );
  return rowCount ?? 0;
}

export async function countMirror(db: Queryable, tenantId: string, calendarId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sched_external_busy WHERE tenant_id = $1 AND calendar_id = $2',
    [tenantId, calendarId],
  );
  return rows[0]?.n ?? 0;
}

export type BusyBlock = {
  id: string;
  resource_id: string;
  calendar_id: string | null;
  source: 'google' | 'jobber';
  start: string;
  end: string;
};

/**
 * Mirrored busy blocks overlapping [from, to), optionally of one resource; by start then id, at
 * most `limit`, after the keyset `after` when given. Only the times and where they came from: the
 * mirror keeps no title or attendee.
 */
export async function listBusyBlocks(
  db: Queryable,
  tenantId: string,
  q: {
    from: string;
    to: string;
    resourceId?: string;
    limit: number;
    after?: { start: string; id: string };
  },
): Promise<BusyBlock[]> {
  const { rows } = await db.query<Omit<BusyBlock, 'start' | 'end'> & { start: Date; end: Date }>(
    `SELECT id, resource_id, calendar_id, source, lower(timeslot) AS start, upper(timeslot) AS end
     FROM sched_external_busy
     WHERE tenant_id = $1 AND timeslot && tstzrange($2::timestamptz, $3::timestamptz, '[)')
       AND ($4::uuid IS NULL OR resource_id = $4::uuid)
       AND ($6::timestamptz IS NULL OR (lower(timeslot), id) > ($6::timestamptz, $7::uuid))
     ORDER BY lower(timeslot), id
     LIMIT $5`,
    [tenantId, q.from, q.to, q.resourceId ?? null, q.limit, q.after?.start ?? null, q.after?.id ?? null],
  );
  return rows.map((r) => ({ ...r, start: iso(r.start), end: iso(r.end) }));
}

export type LiveAppointment = { id: string; conversation_id: string | null; start: number; end: number };

/** Live appointments of a resource overlapping [from, to). */
export async function liveAppointmentsBetween(
  db: Queryable,
  tenantId: string,
  resourceId: string,
  from: number,
  to: number,
): Promise<LiveAppointment[]> {
  const { rows } = await db.query<{ id: string; conversation_id: string | null; start: Date; end: Date }>(
    `SELECT id, conversation_id, lower(timeslot) AS start, upper(timeslot) AS end FROM sched_reservations
     WHERE tenant_id = $1 AND resource_id = $2 AND kind = 'appointment' AND status = 'live'
       AND timeslot && tstzrange(to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), '[)')
     ORDER BY lower(timeslot), id`,
    [tenantId, resourceId, from, to],
  );
  return rows.map((r) => ({
    id: r.id,
    conversation_id: r.conversation_id,
    start: r.start.getTime(),
    end: r.end.getTime(),
  }));
}

// --- conflicts ---

export type CalendarConflict = {
  id: string;
  appointment_id: string;
  calendar_id: string;
  busy_external_id: string;
  appointment_start: string;
  appointment_end: string;
  busy_start: string;
  busy_end: string;
  detected_at: string;
};

type ConflictRow = Omit<
  CalendarConflict,
  'appointment_start' | 'appointment_end' | 'busy_start' | 'busy_end' | 'detected_at'
> & { appointment_start: Date; appointment_end: Date; busy_start: Date; busy_end: Date; detected_at: Date };

const CONFLICT_FIELDS = [
  'id',
  'appointment_id',
  'calendar_id',
  'busy_external_id',
  'appointment_start',
  'appointment_end',
  'busy_start',
  'busy_end',
  'detected_at',
];
const CONFLICT_COLUMNS = CONFLICT_FIELDS.join(', ');
/** The same columns read from the conflicts table aliased `c`. */
const CONFLICT_COLUMNS_OF_C = CONFLICT_FIELDS.map((f) => `c.${f}`).join(', ');

function conflictOf(r: ConflictRow): CalendarConflict {
  return {
    ...r,
    appointment_start: iso(r.appointment_start),
    appointment_end: iso(r.appointment_end),
    busy_start: iso(r.busy_start),
    busy_end: iso(r.busy_end),
    detected_at: iso(r.detected_at),
  };
}

/**
 * A conflict is open while its busy block is still in the mirror and still overlaps the live
 * appointment: the owner who moves or deletes the event, or a reschedule, settles it. (Reads
 * `c` the conflict and `r` its appointment.)
 */
const STILL_OVERLAPS = `EXISTS (
  SELECT 1 FROM sched_external_busy b
  WHERE b.tenant_id = c.tenant_id AND b.calendar_id = c.calendar_id
    AND b.external_id = c.calendar_id::text || ':' || c.busy_external_id
    AND b.timeslot && r.timeslot)`;

/** Records a conflict once per (appointment, event); null when it was already recorded. */
export async function insertConflict(
  db: Queryable,
  c: {
    tenantId: string;
    appointmentId: string;
    calendarId: string;
    eventId: string;
    appointment: { start: number; end: number };
    busy: { start: number; end: number };
  },
): Promise<CalendarConflict | null> {
  const { rows } = await db.query<ConflictRow>(
    `INSERT INTO sched_calendar_conflicts (tenant_id, id, appointment_id, calendar_id, busy_external_id,
       appointment_start, appointment_end, busy_start, busy_end)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), to_timestamp($7 / 1000.0),
       to_timestamp($8 / 1000.0), to_timestamp($9 / 1000.0))
     ON CONFLICT (tenant_id, appointment_id, busy_external_id) DO NOTHING
     RETURNING ${CONFLICT_COLUMNS}`,
    [
      c.tenantId,
      randomUUID(),
      c.appointmentId,
      c.calendarId,
      c.eventId,
      c.appointment.start,
      c.appointment.end,
      c.busy.start,
      c.busy.end,
    ],
  );
  const r = rows[0];
  return r ? conflictOf(r) : null;
}

/** Open conflicts (the block still overlaps) of live appointments still ahead, newest first. */
export async function listOpenConflicts(
  db: Queryable,
  tenantId: string,
  limit = 100,
): Promise<CalendarConflict[]> {
  const { rows } = await db.query<ConflictRow>(
    `SELECT ${CONFLICT_COLUMNS_OF_C}
     FROM sched_calendar_conflicts c
     JOIN sched_reservations r ON r.tenant_id = c.tenant_id AND r.id = c.appointment_id
     WHERE c.tenant_id = $1 AND r.status = 'live' AND upper(r.timeslot) > now() AND ${STILL_OVERLAPS}
     ORDER BY c.detected_at DESC, c.id LIMIT $2`,
    [tenantId, limit],
  );
  return rows.map(conflictOf);
}

/** The open conflicts (as listOpenConflicts counts them) of these appointments, by appointment then busy start. */
export async function openConflictsOf(
  db: Queryable,
  tenantId: string,
  appointmentIds: readonly string[],
): Promise<CalendarConflict[]> {
  if (appointmentIds.length === 0) return [];
  const { rows } = await db.query<ConflictRow>(
    `SELECT ${CONFLICT_COLUMNS_OF_C}
     FROM sched_calendar_conflicts c
     JOIN sched_reservations r ON r.tenant_id = c.tenant_id AND r.id = c.appointment_id
     WHERE c.tenant_id = $1 AND c.appointment_id = ANY($2::uuid[])
       AND r.status = 'live' AND upper(r.timeslot) > now() AND ${STILL_OVERLAPS}
     ORDER BY c.appointment_id, c.busy_start, c.id`,
    [tenantId, appointmentIds],
  );
  return rows.map(conflictOf);
}

/**
 * The latest conflict found for an appointment of this conversation (an alert about a calendar
 * conflict names the conversation, and its text the times); null when there is none.
 */
export async function latestConflictOfConversation(
  db: Queryable,
  tenantId: string,
  conversationId: string,
): Promise<CalendarConflict | null> {
  const { rows } = await db.query<ConflictRow>(
    `SELECT ${CONFLICT_COLUMNS_OF_C}
     FROM sched_calendar_conflicts c
     JOIN sched_reservations r ON r.tenant_id = c.tenant_id AND r.id = c.appointment_id
     WHERE c.tenant_id = $1 AND r.conversation_id = $2
     ORDER BY c.detected_at DESC, c.id DESC LIMIT 1`,
    [tenantId, conversationId],
  );
  const r = rows[0];
  return r ? conflictOf(r) : null;
}

// --- our bookings in calendars ---

export type WrittenEvent = {
  appointment_id: string;
  calendar_id: string;
  external_event_id: string | null;
  state: 'written' | 'deleted';
};

export async function findWrittenEvent(
  db: Queryable,
  tenantId: string,
  appointmentId: string,
): Promise<WrittenEvent | null> {
  const { rows } = await db.query<WrittenEvent>(
    `SELECT appointment_id, calendar_id, external_event_id, state FROM sched_calendar_events
     WHERE tenant_id = $1 AND appointment_id = $2`,
    [tenantId, appointmentId],
  );
  return rows[0] ?? null;
}

export async function saveWrittenEvent(
  db: Queryable,
  e: {
    tenantId: string;
    appointmentId: string;
    calendarId: string;
    externalEventId: string;
    state: 'written' | 'deleted';
  },
): Promise<void> {
  await db.query(
    `INSERT INTO sched_calendar_events (tenant_id, appointment_id, calendar_id, external_event_id, state)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, appointment_id) DO UPDATE SET calendar_id = EXCLUDED.calendar_id,
       external_event_id = EXCLUDED.external_event_id, state = EXCLUDED.state, updated_at = now()`,
    [e.tenantId, e.appointmentId, e.calendarId, e.externalEventId, e.state],
  );
}

/** A reschedule: the event written for the previous appointment now belongs to the new one. */
export async function moveWrittenEvent(
  db: Queryable,
  tenantId: string,
  fromAppointmentId: string,
  toAppointmentId: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE sched_calendar_events SET appointment_id = $3, updated_at = now()
     WHERE tenant_id = $1 AND appointment_id = $2
       AND NOT EXISTS (SELECT 1 FROM sched_calendar_events WHERE tenant_id = $1 AND appointment_id = $3)`,
    [tenantId, fromAppointmentId, toAppointmentId],
  );
  return rowCount === 1;
}
