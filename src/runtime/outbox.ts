import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  EVENT_CATALOG,
  EventContractError,
  type EventEnvelope,
  type EventName,
  isEventName,
  validateEvent,
} from '../domain/event-catalog.ts';
import { inSpan } from '../observability/tracing.ts';
import type { Queryable } from '../persistence/db.ts';

// Writing domain events to the outbox. Only the runtime calls this, always with the client of the
// transaction that makes the change, so the event commits exactly when the change does. Every
// payload is validated against the event catalog first; a NOTIFY (delivered at commit) wakes the
// dispatchers.

export const OUTBOX_CHANNEL = 'nmc_outbox';

export type NewEvent = {
  tenantId: string;
  name: string;
  payload: unknown;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
};

export async function writeOutboxEvents(db: Queryable, events: NewEvent[]): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const envelopes = events.map((event): EventEnvelope => {
    const valid = validateEvent(event.name, event.payload);
    return {
      event_id: randomUUID(),
      event_name: valid.name,
      schema_version: valid.version,
      tenant_id: event.tenantId,
      occurred_at: event.occurredAt,
      correlation_id: event.correlationId,
      causation_id: event.causationId,
      payload: valid.payload,
    };
  });
  // One round trip: the rows and the NOTIFY (delivered at commit) together.
  await inSpan('outbox write', { 'nmc.events': envelopes.length }, () =>
    db.query(
      `WITH inserted AS (
       INSERT INTO outbox_events (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(
         tenant_id uuid, event_id uuid, event_name text, schema_version integer, occurred_at timestamptz,
         correlation_id text, causation_id text, payload jsonb))
     SELECT pg_notify($2, '')`,
      [JSON.stringify(envelopes), OUTBOX_CHANNEL],
    ),
  );
  return envelopes;
}

/** A data-modifying statement that returns the rows it changed (`... RETURNING`), and its parameters. */
export type RowChange = { text: string; values: unknown[] };

/** The event each row of a `RowChange` records. */
export type RowEvent = {
  tenantId: string;
  name: string;
  /** Payload fields known before the statement runs; validated against the catalog before it runs. */
  payload: Record<string, unknown>;
  /** Payload fields read from the changed row: payload field → column the statement returns. */
  fromRow: Record<string, string>;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
};

const COLUMN_NAME = /^[a-z_][a-z0-9_]*$/;

// Named, so each connection parses and plans it once and then only binds and runs it. The texts
// come from code (one per caller), so there are few names.
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `nmc_row_event_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs `change` and, in the same statement, writes one outbox event per row it changed, with the
 * NOTIFY: one round trip, atomic without a transaction of its own (a single statement commits or
 * not as a whole), and nothing written to the outbox when nothing changed. Returns the changed rows.
 *
 * The catalog check is split by when each part is known: the known fields are checked before the
 * statement runs; the fields read from the row are checked on the rows it returns. The columns
 * named in `fromRow` must be ones whose type already keeps to the catalog (a uuid key, a nullable
 * text), so that second check guards against a mistake in the code, not against data; the outbox
 * dispatcher checks every event again before delivering it.
 */
export async function changeWithOutboxEvent<R extends Record<string, unknown>>(
  db: Queryable,
  change: RowChange,
  event: RowEvent,
): Promise<R[]> {
  const known = validateKnownFields(event);
  const n = change.values.length;
  const payloadSql = Object.entries(event.fromRow)
    .map(([field, column]) => {
      if (!COLUMN_NAME.test(column)) throw new Error(`not a column name: ${column}`);
      return `'${field}', changed.${column}`;
    })
    .join(', ');
  const text = `WITH changed AS (${change.text}),
       written AS (
         INSERT INTO outbox_events (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload)
         SELECT $${n + 1}::uuid, gen_random_uuid(), $${n + 2}::text, $${n + 3}::integer, $${n + 4}::timestamptz,
                $${n + 5}::text, $${n + 6}::text, $${n + 7}::jsonb || jsonb_build_object(${payloadSql})
         FROM changed
         RETURNING 1),
       notified AS MATERIALIZED (SELECT pg_notify($${n + 8}, '') FROM (SELECT 1 FROM written LIMIT 1) AS one)
       SELECT changed.* FROM changed, (SELECT count(*) FROM notified) AS wake`;
  const { rows } = await inSpan('outbox write', { 'nmc.events': 1 }, () =>
    db.query<R>({
      name: statementName(text),
      text,
      values: [
        ...change.values,
        event.tenantId,
        known.name,
        known.version,
        event.occurredAt,
        event.correlationId,
        event.causationId,
        JSON.stringify(known.payload),
        OUTBOX_CHANNEL,
      ],
    }),
  );
  for (const row of rows) {
    const payload = { ...known.payload };
    for (const [field, column] of Object.entries(event.fromRow)) payload[field] = row[column];
    validateEvent(event.name, payload);
  }
  return rows;
}

// The catalog's schema for the event without the fields the row will supply, built once per event
// and set of row fields (a status callback runs this on every request).
const knownFieldSchemas = new Map<string, z.ZodObject>();
function knownFieldsSchema(name: EventName, fromRow: readonly string[]): z.ZodObject {
  const key = `${name}:${fromRow.join(',')}`;
  let known = knownFieldSchemas.get(key);
  if (known === undefined) {
    const schema = EVENT_CATALOG[name].payload as unknown as z.ZodObject;
    const unknownField = fromRow.find((field) => !Object.hasOwn(schema.shape, field));
    if (unknownField !== undefined)
      throw new EventContractError(`event ${name} has no field ${unknownField}`);
    known = schema.omit(Object.fromEntries(fromRow.map((field) => [field, true])) as Record<string, true>);
    knownFieldSchemas.set(key, known);
  }
  return known;
}

function validateKnownFields(event: RowEvent): ReturnType<typeof validateEvent> {
  if (!isEventName(event.name)) throw new EventContractError(`event ${event.name} is not in the catalog`);
  const parsed = knownFieldsSchema(event.name, Object.keys(event.fromRow)).safeParse(event.payload);
  if (!parsed.success) {
    throw new EventContractError(
      `event ${event.name} breaks its schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return {
    name: event.name,
    version: EVENT_CATALOG[event.name].version,
    payload: parsed.data as Record<string, unknown>,
  };
}

/** Retained outbox events with these names, in commit order after `afterSeq` (a rebuild's input). */
export async function readRetainedEvents(
  db: Queryable,
  input: { names: readonly string[]; afterSeq: number; limit: number },
): Promise<(EventEnvelope & { seq: number })[]> {
  const { rows } = await db.query<EventEnvelope & { seq: number; occurred_at: Date }>(
    `SELECT seq, tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload
     FROM outbox_events WHERE seq > $1 AND event_name = ANY($2::text[]) ORDER BY seq LIMIT $3`,
    [input.afterSeq, input.names, input.limit],
  );
  return rows.map((r) => ({ ...r, occurred_at: new Date(r.occurred_at).toISOString() }));
}
