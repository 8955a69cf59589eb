import {
  type AppointmentFacts,
  type Contribution,
  type ConversationFacts,
  EMPTY_APPOINTMENT,
  EMPTY_CONVERSATION,
  FUNNEL_FIELDS,
  type FunnelField,
} from '../../domain/report-contributions.ts';
import type { Queryable } from '../db.ts';

// The reporting module's tables (rep_*): its journal of counted events, the fact rows, and the
// daily read models. Every function takes a client already inside the caller's transaction.

export type JournalEvent = {
  tenant_id: string;
  event_id: string;
  event_name: string;
  occurred_at: string;
  payload: Record<string, unknown>;
};

/**
 * Keeps a batch of events in the journal in one statement; returns the keys (`tenant_id/event_id`)
 * of those that were not there yet. An event already journalled is a redelivery: it counts nothing.
 */
export async function journalEvents(db: Queryable, events: readonly JournalEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const { rows } = await db.query<{ tenant_id: string; event_id: string }>(
    `INSERT INTO rep_events (tenant_id, event_id, event_name, occurred_at, payload)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(
       tenant_id uuid, event_id uuid, event_name text, occurred_at timestamptz, payload jsonb)
     ON CONFLICT DO NOTHING
     RETURNING tenant_id, event_id`,
    [JSON.stringify(events)],
  );
  return new Set(rows.map((r) => journalKey(r)));
}

// Postgres prints uuids in lower case; a payload may not.
export const journalKey = (event: { tenant_id: string; event_id: string }): string =>
  `${event.tenant_id}/${event.event_id}`.toLowerCase();

/** Copies events the journal lacks (those the outbox still retains) in; returns how many. */
export async function journalMissing(db: Queryable, events: JournalEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO rep_events (tenant_id, event_id, event_name, occurred_at, payload)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(
       tenant_id uuid, event_id uuid, event_name text, occurred_at timestamptz, payload jsonb)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(events)],
  );
  return rowCount ?? 0;
}

export async function countJournal(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM rep_events');
  return rows[0]?.n ?? 0;
}

/** The journal in a stable order, a page at a time (keyset on occurred_at, event_id). */
export async function readJournal(
  db: Queryable,
  after: { occurred_at: string; event_id: string } | null,
  limit: number,
): Promise<JournalEvent[]> {
  const { rows } = await db.query<JournalEvent & { occurred_at: Date }>(
    `SELECT tenant_id, event_id, event_name, occurred_at, payload FROM rep_events
     WHERE ($1::timestamptz IS NULL OR (occurred_at, event_id) > ($1::timestamptz, $2::uuid))
     ORDER BY occurred_at, event_id LIMIT $3`,
    [after?.occurred_at ?? null, after?.event_id ?? null, limit],
  );
  return rows.map((r) => ({ ...r, occurred_at: r.occurred_at.toISOString() }));
}

/** Empties every read model (not the journal), for a rebuild. */
export async function clearReadModels(db: Queryable): Promise<void> {
  await db.query('TRUNCATE rep_conversations, rep_appointments, rep_funnel_daily, rep_first_response_daily');
}

/** Serialises a rebuild against live updates: the live path takes it shared, the rebuild exclusive. */
export async function lockReadModels(db: Queryable, mode: 'shared' | 'exclusive'): Promise<void> {
  await db.query(
    mode === 'shared'
      ? "SELECT pg_advisory_xact_lock_shared(hashtext('rep_read_models'))"
      : "SELECT pg_advisory_xact_lock(hashtext('rep_read_models'))",
  );
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

/** A fact row's key: the tenant and the conversation's or the appointment's id. */
export type FactKey = { tenant_id: string; id: string };
export const factKey = (tenantId: string, id: string): string => `${tenantId}/${id}`.toLowerCase();

const CONVERSATION_COLUMNS = Object.keys(EMPTY_CONVERSATION) as (keyof ConversationFacts)[];
const CONVERSATION_TYPES: Record<keyof ConversationFacts, string> = Object.fromEntries(
  CONVERSATION_COLUMNS.map((c) => [c, 'timestamptz']),
) as Record<keyof ConversationFacts, string>;

const APPOINTMENT_COLUMNS = Object.keys(EMPTY_APPOINTMENT) as (keyof AppointmentFacts)[];
const APPOINTMENT_TYPES: Record<keyof AppointmentFacts, string> = {
  conversation_id: 'uuid',
  service_id: 'uuid',
  price_cents: 'bigint',
  start_at: 'timestamptz',
  booked_at: 'timestamptz',
  superseded_at: 'timestamptz',
  cancelled_at: 'timestamptz',
  reminded_at: 'timestamptz',
  outcome: 'text',
  outcome_at: 'timestamptz',
  outcome_event_id: 'uuid',
};
const APPOINTMENT_INSTANTS = new Set<keyof AppointmentFacts>(
  APPOINTMENT_COLUMNS.filter((c) => APPOINTMENT_TYPES[c] === 'timestamptz'),
);

/**
 * Locks fact rows in one statement, creating the missing ones empty, and returns every row's
 * columns by `factKey`. The upsert's no-op update takes the row lock on an existing row and waits
 * for a concurrent writer; rows go in key order, so two batches lock a shared row set in the same
 * order and cannot deadlock.
 */
async function lockFactRows(
  db: Queryable,
  table: 'rep_conversations' | 'rep_appointments',
  idColumn: 'conversation_id' | 'appointment_id',
  columns: readonly string[],
  keys: readonly FactKey[],
): Promise<Map<string, Record<string, unknown>>> {
  if (keys.length === 0) return new Map();
  const unique = [...new Map(keys.map((k) => [factKey(k.tenant_id, k.id), k])).values()];
  const { rows } = await db.query<Record<string, unknown> & { tenant_id: string }>(
    `INSERT INTO ${table} (tenant_id, ${idColumn})
     SELECT k.tenant_id, k.id FROM jsonb_to_recordset($1::jsonb) AS k(tenant_id uuid, id uuid)
     ORDER BY k.tenant_id, k.id
     ON CONFLICT (tenant_id, ${idColumn}) DO UPDATE SET tenant_id = EXCLUDED.tenant_id
     RETURNING tenant_id, ${idColumn}, ${columns.join(', ')}`,
    [JSON.stringify(unique)],
  );
  return new Map(rows.map((r) => [factKey(r.tenant_id, r[idColumn] as string), r]));
}

/** The conversations' fact rows, locked (created empty when new), by `factKey`. */
export async function lockConversationFacts(
  db: Queryable,
  keys: readonly FactKey[],
): Promise<Map<string, ConversationFacts>> {
  const rows = await lockFactRows(db, 'rep_conversations', 'conversation_id', CONVERSATION_COLUMNS, keys);
  return new Map(
    [...rows].map(([key, row]) => [
      key,
      Object.fromEntries(
        CONVERSATION_COLUMNS.map((c) => [c, iso(row[c] as Date | null)]),
      ) as ConversationFacts,
    ]),
  );
}

/** The appointments' fact rows, locked (created empty when new), by `factKey`. */
export async function lockAppointmentFacts(
  db: Queryable,
  keys: readonly FactKey[],
): Promise<Map<string, AppointmentFacts>> {
  const rows = await lockFactRows(db, 'rep_appointments', 'appointment_id', APPOINTMENT_COLUMNS, keys);
  return new Map(
    [...rows].map(([key, row]) => [
      key,
      Object.fromEntries(
        APPOINTMENT_COLUMNS.map((c) => [
          c,
          APPOINTMENT_INSTANTS.has(c) ? iso(row[c] as Date | null) : row[c],
        ]),
      ) as AppointmentFacts,
    ]),
  );
}

const recordsetColumns = (idColumn: string, types: Record<string, string>): string =>
  [`tenant_id uuid`, `${idColumn} uuid`, ...Object.entries(types).map(([c, t]) => `${c} ${t}`)].join(', ');

const assignments = (columns: readonly string[]): string => columns.map((c) => `${c} = v.${c}`).join(', ');

/** Writes changed fact rows (already locked by this transaction) of both kinds in one statement. */
export async function saveFacts(
  db: Queryable,
  conversations: readonly (ConversationFacts & { tenant_id: string; conversation_id: string })[],
  appointments: readonly (AppointmentFacts & { tenant_id: string; appointment_id: string })[],
): Promise<void> {
  if (conversations.length === 0 && appointments.length === 0) return;
  await db.query(
    `WITH conversations AS (
       UPDATE rep_conversations r SET ${assignments(CONVERSATION_COLUMNS)}
       FROM jsonb_to_recordset($1::jsonb) AS v(${recordsetColumns('conversation_id', CONVERSATION_TYPES)})
       WHERE r.tenant_id = v.tenant_id AND r.conversation_id = v.conversation_id)
     UPDATE rep_appointments r SET ${assignments(APPOINTMENT_COLUMNS)}
     FROM jsonb_to_recordset($2::jsonb) AS v(${recordsetColumns('appointment_id', APPOINTMENT_TYPES)})
     WHERE r.tenant_id = v.tenant_id AND r.appointment_id = v.appointment_id`,
    [JSON.stringify(conversations), JSON.stringify(appointments)],
  );
}

/** What a batch adds to the daily tables: per tenant, per local day, per field. */
export type DayTotals = Map<string, Map<string, Map<Contribution['field'], number>>>;

/**
 * Adds a batch's totals to both daily tables in one statement, rows in key order (two batches
 * touching the same days lock them in the same order). Amounts of zero are not written.
 */
export async function addToDays(db: Queryable, totals: DayTotals): Promise<void> {
  const funnel: Record<string, unknown>[] = [];
  const buckets: { tenant_id: string; day: string; bucket_ms: number; responses: number }[] = [];
  for (const [tenantId, days] of totals) {
    for (const [day, fields] of days) {
      const amounts = FUNNEL_FIELDS.map((f) => fields.get(f) ?? 0);
      if (amounts.some((n) => n !== 0)) {
        funnel.push({
          tenant_id: tenantId,
          day,
          ...Object.fromEntries(FUNNEL_FIELDS.map((f, i) => [f, amounts[i]])),
        });
      }
      for (const [field, amount] of fields) {
        if (field.startsWith('bucket:') && amount !== 0) {
          buckets.push({
            tenant_id: tenantId,
            day,
            bucket_ms: Number(field.slice('bucket:'.length)),
            responses: amount,
          });
        }
      }
    }
  }
  if (funnel.length === 0 && buckets.length === 0) return;
  await db.query(
    `WITH funnel AS (
       INSERT INTO rep_funnel_daily (tenant_id, day, ${FUNNEL_FIELDS.join(', ')})
       SELECT v.tenant_id, v.day, ${FUNNEL_FIELDS.map((f) => `v.${f}`).join(', ')}
       FROM jsonb_to_recordset($1::jsonb) AS v(tenant_id uuid, day date, ${FUNNEL_FIELDS.map((f) => `${f} bigint`).join(', ')})
       ORDER BY v.tenant_id, v.day
       ON CONFLICT (tenant_id, day) DO UPDATE SET
       ${FUNNEL_FIELDS.map((f) => `${f} = rep_funnel_daily.${f} + EXCLUDED.${f}`).join(', ')})
     INSERT INTO rep_first_response_daily (tenant_id, day, bucket_ms, responses)
     SELECT v.tenant_id, v.day, v.bucket_ms, v.responses
     FROM jsonb_to_recordset($2::jsonb) AS v(tenant_id uuid, day date, bucket_ms integer, responses integer)
     ORDER BY v.tenant_id, v.day, v.bucket_ms
     ON CONFLICT (tenant_id, day, bucket_ms) DO UPDATE
     SET responses = rep_first_response_daily.responses + EXCLUDED.responses`,
    [JSON.stringify(funnel), JSON.stringify(buckets)],
  );
}

export type FunnelDay = { day: string } & Record<FunnelField, number>;

/** The funnel rows of local days `from`..`to` (inclusive, `YYYY-MM-DD`); days with nothing are absent. */
export async function readFunnelDays(
  db: Queryable,
  tenantId: string,
  from: string,
  to: string,
): Promise<FunnelDay[]> {
  const { rows } = await db.query<FunnelDay>(
    `SELECT day::text AS day, ${FUNNEL_FIELDS.map((f) => `${f}::bigint AS ${f}`).join(', ')}
     FROM rep_funnel_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day`,
    [tenantId, from, to],
  );
  return rows;
}

/** The first-response histogram rows of local days `from`..`to` (inclusive). */
export async function readResponseBuckets(
  db: Queryable,
  tenantId: string,
  from: string,
  to: string,
): Promise<{ day: string; bucket_ms: number; responses: number }[]> {
  const { rows } = await db.query<{ day: string; bucket_ms: number; responses: number }>(
    `SELECT day::text AS day, bucket_ms, responses FROM rep_first_response_daily
     WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date AND responses <> 0 ORDER BY day, bucket_ms`,
    [tenantId, from, to],
  );
  return rows;
}

// Retention (src/runtime/retention.ts), one batch per call. A fact row goes when every instant it
// holds is before the cutoff; a journal event when it is before the cutoff and no retained fact
// row names it (so every retained fact keeps all its events, and a rebuild still reproduces it);
// a day when it is too old to hold any contribution of a retained fact (an instant before the
// cutoff lies on a local date at most one day after its UTC date, whatever the zone).

export async function purgeReportConversationsBefore(
  db: Queryable,
  cutoff: Date,
  batch: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM rep_conversations WHERE (tenant_id, conversation_id) IN (
       SELECT tenant_id, conversation_id FROM rep_conversations
       WHERE GREATEST(${CONVERSATION_COLUMNS.join(', ')}) < $1 LIMIT $2)`,
    [cutoff, batch],
  );
  return rowCount ?? 0;
}

export async function purgeReportAppointmentsBefore(
  db: Queryable,
  cutoff: Date,
  batch: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM rep_appointments WHERE (tenant_id, appointment_id) IN (
       SELECT tenant_id, appointment_id FROM rep_appointments
       WHERE GREATEST(${[...APPOINTMENT_INSTANTS].join(', ')}) < $1 LIMIT $2)`,
    [cutoff, batch],
  );
  return rowCount ?? 0;
}

export async function purgeReportJournalBefore(db: Queryable, cutoff: Date, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM rep_events WHERE (tenant_id, event_id) IN (
       SELECT e.tenant_id, e.event_id FROM rep_events e
       WHERE e.occurred_at < $1
         AND NOT EXISTS (SELECT 1 FROM rep_conversations c
                         WHERE c.tenant_id = e.tenant_id
                           AND c.conversation_id = (e.payload->>'conversation_id')::uuid)
         AND NOT EXISTS (SELECT 1 FROM rep_appointments a
                         WHERE a.tenant_id = e.tenant_id
                           AND a.appointment_id IN ((e.payload->>'appointment_id')::uuid,
                                                    (e.payload->>'previous_id')::uuid))
       LIMIT $2)`,
    [cutoff, batch],
  );
  return rowCount ?? 0;
}

const OLDEST_KEPT_DAY = `(($1::timestamptz AT TIME ZONE 'UTC')::date + 2)`;

export async function purgeReportFunnelDaysBefore(
  db: Queryable,
  cutoff: Date,
  batch: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM rep_funnel_daily WHERE (tenant_id, day) IN (
       SELECT tenant_id, day FROM rep_funnel_daily WHERE day < ${OLDEST_KEPT_DAY} LIMIT $2)`,
    [cutoff, batch],
  );
  return rowCount ?? 0;
}

export async function purgeReportResponseDaysBefore(
  db: Queryable,
  cutoff: Date,
  batch: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM rep_first_response_daily WHERE (tenant_id, day, bucket_ms) IN (
       SELECT tenant_id, day, bucket_ms FROM rep_first_response_daily WHERE day < ${OLDEST_KEPT_DAY} LIMIT $2)`,
    [cutoff, batch],
  );
  return rowCount ?? 0;
}
