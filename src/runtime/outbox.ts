import { randomUUID } from 'node:crypto';
import { type EventEnvelope, validateEvent } from '../domain/event-catalog.ts';
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
