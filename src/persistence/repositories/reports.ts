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

/** Keeps an event in the journal; false when it was there already (a redelivery: count nothing). */
export async function journalEvent(db: Queryable, event: JournalEvent): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO rep_events (tenant_id, event_id, event_name, occurred_at, payload)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [event.tenant_id, event.event_id, event.event_name, event.occurred_at, event.payload],
  );
  return rowCount === 1;
}

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

const CONVERSATION_COLUMNS = Object.keys(EMPTY_CONVERSATION) as (keyof ConversationFacts)[];

/** The conversation's fact row, locked (created empty when new). */
export async function lockConversationFacts(
  db: Queryable,
  tenantId: string,
  conversationId: string,
): Promise<ConversationFacts> {
  await db.query(
    'INSERT INTO rep_conversations (tenant_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [tenantId, conversationId],
  );
  const { rows } = await db.query<Record<keyof ConversationFacts, Date | null>>(
    `SELECT ${CONVERSATION_COLUMNS.join(', ')} FROM rep_conversations
     WHERE tenant_id = $1 AND conversation_id = $2 FOR UPDATE`,
    [tenantId, conversationId],
  );
  const row = rows[0];
  if (!row) throw new Error('rep_conversations row vanished');
  return Object.fromEntries(CONVERSATION_COLUMNS.map((c) => [c, iso(row[c])])) as ConversationFacts;
}

export async function saveConversationFacts(
  db: Queryable,
  tenantId: string,
  conversationId: string,
  facts: ConversationFacts,
): Promise<void> {
  await db.query(
    `UPDATE rep_conversations SET ${CONVERSATION_COLUMNS.map((c, i) => `${c} = $${i + 3}`).join(', ')}
     WHERE tenant_id = $1 AND conversation_id = $2`,
    [tenantId, conversationId, ...CONVERSATION_COLUMNS.map((c) => facts[c])],
  );
}

const APPOINTMENT_COLUMNS = Object.keys(EMPTY_APPOINTMENT) as (keyof AppointmentFacts)[];
const APPOINTMENT_INSTANTS = new Set<keyof AppointmentFacts>([
  'start_at',
  'booked_at',
  'superseded_at',
  'cancelled_at',
  'reminded_at',
  'outcome_at',
]);

/** The appointment's fact row, locked (created empty when new). */
export async function lockAppointmentFacts(
  db: Queryable,
  tenantId: string,
  appointmentId: string,
): Promise<AppointmentFacts> {
  await db.query(
    'INSERT INTO rep_appointments (tenant_id, appointment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [tenantId, appointmentId],
  );
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT ${APPOINTMENT_COLUMNS.join(', ')} FROM rep_appointments
     WHERE tenant_id = $1 AND appointment_id = $2 FOR UPDATE`,
    [tenantId, appointmentId],
  );
  const row = rows[0];
  if (!row) throw new Error('rep_appointments row vanished');
  return Object.fromEntries(
    APPOINTMENT_COLUMNS.map((c) => [c, APPOINTMENT_INSTANTS.has(c) ? iso(row[c] as Date | null) : row[c]]),
  ) as AppointmentFacts;
}

export async function saveAppointmentFacts(
  db: Queryable,
  tenantId: string,
  appointmentId: string,
  facts: AppointmentFacts,
): Promise<void> {
  await db.query(
    `UPDATE rep_appointments SET ${APPOINTMENT_COLUMNS.map((c, i) => `${c} = $${i + 3}`).join(', ')}
     WHERE tenant_id = $1 AND appointment_id = $2`,
    [tenantId, appointmentId, ...APPOINTMENT_COLUMNS.map((c) => facts[c])],
  );
}

/** Adds a row change's difference to the daily tables, days in order (concurrent writers never deadlock). */
export async function addToDays(
  db: Queryable,
  tenantId: string,
  days: Map<string, Map<Contribution['field'], number>>,
): Promise<void> {
  for (const day of [...days.keys()].sort()) {
    const fields = days.get(day) as Map<Contribution['field'], number>;
    const funnel = FUNNEL_FIELDS.map((f) => fields.get(f) ?? 0);
    if (funnel.some((n) => n !== 0)) {
      await db.query(
        `INSERT INTO rep_funnel_daily (tenant_id, day, ${FUNNEL_FIELDS.join(', ')})
         VALUES ($1, $2, ${FUNNEL_FIELDS.map((_, i) => `$${i + 3}`).join(', ')})
         ON CONFLICT (tenant_id, day) DO UPDATE SET
         ${FUNNEL_FIELDS.map((f) => `${f} = rep_funnel_daily.${f} + EXCLUDED.${f}`).join(', ')}`,
        [tenantId, day, ...funnel],
      );
    }
    const buckets = [...fields.entries()].filter(([f]) => f.startsWith('bucket:')).sort();
    for (const [field, amount] of buckets) {
      await db.query(
        `INSERT INTO rep_first_response_daily (tenant_id, day, bucket_ms, responses) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, day, bucket_ms) DO UPDATE
         SET responses = rep_first_response_daily.responses + EXCLUDED.responses`,
        [tenantId, day, Number(field.slice('bucket:'.length)), amount],
      );
    }
  }
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
