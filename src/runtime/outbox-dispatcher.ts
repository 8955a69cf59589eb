import { backoffDelayMs, shouldDeadLetter } from '../domain/backoff.ts';
import type { EventEnvelope } from '../domain/event-catalog.ts';
import { validateEvent } from '../domain/event-catalog.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { inTransaction, type Pool, type PoolClient } from '../persistence/db.ts';
import { OUTBOX_CHANNEL } from './outbox.ts';
import { createOutboxWake } from './outbox-wake.ts';

// Drains `outbox_events` at least once to in-process subscribers. Rows are claimed with
// FOR UPDATE SKIP LOCKED and stay locked while their subscribers run, so several dispatchers (in
// one process or many) never deliver one event concurrently. Each subscriber's consumption is
// recorded in `outbox_consumptions`, so a retried event reaches only the subscribers that have not
// consumed it yet. Failures retry with full-jitter backoff; after the 6th failed attempt the event
// moves to `outbox_dead_letters`. A NOTIFY at commit wakes the loop; a slow poll is the backstop
// (outbox-wake.ts).

export type Subscriber = {
  name: string;
  /** Event names it wants; '*' for all. */
  events: readonly string[] | '*';
  handle: (event: EventEnvelope) => Promise<void>;
  /**
   * Optional: the events of one claimed batch this subscriber still needs, in commit order, in one
   * call. If it throws, the dispatcher hands the same events to `handle` one at a time, so it must
   * leave nothing behind when it fails (one transaction) and be safe to follow with `handle`.
   */
  handleBatch?: (events: readonly EventEnvelope[]) => Promise<void>;
};

export type OutboxDispatcherOptions = {
  db: Pool;
  connectionString: string;
  subscribers: Subscriber[];
  batchSize: number;
  logger: Logger;
  metrics?: Metrics;
  random?: () => number;
  pollIntervalMs?: number;
  /** Delay between a NOTIFY and the drain it starts (outbox-wake.ts); 100 ms by default. */
  coalesceMs?: number;
  maxAttempts?: number;
};

export type OutboxDispatcher = {
  /** Delivers one batch; returns how many events it handled (delivered, retried or dead-lettered). */
  drainOnce(): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
};

type OutboxRow = EventEnvelope & {
  attempts: number;
  occurred_at: string | Date;
  /** Subscribers that consumed the event on an earlier attempt. */
  consumed: string[] | null;
};
type Consumption = { tenant_id: string; event_id: string; subscriber: string };

export function createOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 6;

  function envelopeOf(row: OutboxRow): EventEnvelope {
    const envelope: EventEnvelope = {
      event_id: row.event_id,
      event_name: row.event_name,
      schema_version: row.schema_version,
      tenant_id: row.tenant_id,
      occurred_at: new Date(row.occurred_at).toISOString(),
      correlation_id: row.correlation_id,
      causation_id: row.causation_id,
      payload: row.payload,
    };
    validateEvent(envelope.event_name, envelope.payload);
    return envelope;
  }

  /**
   * Runs each subscriber over the events of the batch it still needs, in commit order: one
   * `handleBatch` call when it has one (falling back to `handle` per event if that throws), else
   * `handle` per event. An event whose delivery fails skips the later subscribers, as it would
   * alone; each success is noted in `consumed`. Returns the failure of each failed row.
   */
  async function deliver(rows: OutboxRow[], consumed: Consumption[]): Promise<Map<OutboxRow, unknown>> {
    const failed = new Map<OutboxRow, unknown>();
    const envelopes = new Map<OutboxRow, EventEnvelope>();
    for (const row of rows) {
      try {
        envelopes.set(row, envelopeOf(row));
      } catch (err) {
        failed.set(row, err);
      }
    }
    const done = new Map(rows.map((row) => [row, new Set(row.consumed ?? [])]));
    for (const subscriber of options.subscribers) {
      const pending = rows.filter(
        (row) =>
          !failed.has(row) &&
          !done.get(row)?.has(subscriber.name) &&
          (subscriber.events === '*' || subscriber.events.includes(row.event_name)),
      );
      if (pending.length === 0) continue;
      const consume = (row: OutboxRow) =>
        consumed.push({ tenant_id: row.tenant_id, event_id: row.event_id, subscriber: subscriber.name });
      if (subscriber.handleBatch) {
        try {
          await subscriber.handleBatch(pending.map((row) => envelopes.get(row) as EventEnvelope));
          pending.forEach(consume);
          continue;
        } catch (err) {
          options.logger.warn(
            { err, subscriber: subscriber.name, events: pending.length },
            'outbox batch failed; delivering its events one by one',
          );
        }
      }
      for (const row of pending) {
        try {
          await subscriber.handle(envelopes.get(row) as EventEnvelope);
          consume(row);
        } catch (err) {
          failed.set(row, err);
        }
      }
    }
    return failed;
  }

  async function recordFailure(client: PoolClient, row: OutboxRow, err: unknown): Promise<void> {
    const attempts = row.attempts + 1;
    const message = (err as Error).message?.slice(0, 1000) ?? String(err);
    if (shouldDeadLetter(attempts, maxAttempts)) {
      await client.query(
        `WITH dead AS (
           DELETE FROM outbox_events WHERE tenant_id = $1 AND event_id = $2
           RETURNING tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload)
         INSERT INTO outbox_dead_letters (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload, attempts, last_error)
         SELECT tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload, $3, $4 FROM dead
         ON CONFLICT (tenant_id, event_id) DO UPDATE SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, dead_at = now()`,
        [row.tenant_id, row.event_id, attempts, message],
      );
      options.metrics?.outboxDelivered.labels({ outcome: 'dead_lettered' }).inc();
      options.logger.warn(
        { event_id: row.event_id, event_name: row.event_name, attempts },
        'outbox event dead-lettered',
      );
      return;
    }
    const delayMs = backoffDelayMs(attempts - 1, random);
    await client.query(
      `UPDATE outbox_events SET attempts = $3, last_error = $4, next_attempt_at = now() + make_interval(secs => $5::float8 / 1000)
       WHERE tenant_id = $1 AND event_id = $2`,
      [row.tenant_id, row.event_id, attempts, message, delayMs],
    );
    options.metrics?.outboxDelivered.labels({ outcome: 'retried' }).inc();
  }

  // One batch in one transaction, in a constant number of statements: the claim (with each event's
  // earlier consumptions), then the subscribers (each over the batch, in commit order), then the
  // consumptions and the dispatched marks together. Subscribers work through their own
  // connections, so one that fails cannot abort this transaction; only its event is retried, and
  // the consumptions recorded for the event before it failed are kept (those subscribers are done).
  async function drainOnce(): Promise<number> {
    return inTransaction(options.db, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT e.tenant_id, e.event_id, e.event_name, e.schema_version, e.occurred_at, e.correlation_id, e.causation_id, e.payload, e.attempts,
                (SELECT array_agg(c.subscriber) FROM outbox_consumptions c
                 WHERE c.tenant_id = e.tenant_id AND c.event_id = e.event_id) AS consumed
         FROM outbox_events e
         WHERE e.dispatched_at IS NULL AND e.next_attempt_at <= now()
         ORDER BY e.seq
         LIMIT $1
         FOR UPDATE OF e SKIP LOCKED`,
        [options.batchSize],
      );
      const consumed: Consumption[] = [];
      const delivered: { tenant_id: string; event_id: string }[] = [];
      const failed = await deliver(rows, consumed);
      for (const row of rows) {
        if (failed.has(row)) {
          await recordFailure(client, row, failed.get(row));
        } else {
          delivered.push({ tenant_id: row.tenant_id, event_id: row.event_id });
          options.metrics?.outboxDelivered.labels({ outcome: 'delivered' }).inc();
        }
      }
      if (consumed.length > 0 || delivered.length > 0) {
        await client.query(
          `WITH consumed AS (
             INSERT INTO outbox_consumptions (tenant_id, event_id, subscriber)
             SELECT tenant_id, event_id, subscriber FROM jsonb_to_recordset($1::jsonb) AS c(tenant_id uuid, event_id uuid, subscriber text)
             ON CONFLICT DO NOTHING)
           UPDATE outbox_events e SET dispatched_at = now(), attempts = e.attempts + 1
           FROM jsonb_to_recordset($2::jsonb) AS d(tenant_id uuid, event_id uuid)
           WHERE e.tenant_id = d.tenant_id AND e.event_id = d.event_id`,
          [JSON.stringify(consumed), JSON.stringify(delivered)],
        );
      }
      return rows.length;
    });
  }

  const wake = createOutboxWake({
    connectionString: options.connectionString,
    applicationName: 'nevermisscall-outbox',
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
    // The subscribers (reports, reminders, alerts, the log) are not a caller's wait: 100 ms of
    // delay turns a burst's commits into batches (measured: 46 → 42 statements per inbound text
    // system-wide, against 20 ms), and runs at most ten times a second under load.
    coalesceMs: options.coalesceMs ?? 100,
    logger: options.logger,
    run: async () => {
      while (wake.running() && (await drainOnce()) === options.batchSize) {
        // a full batch: there is more
      }
    },
  });

  return {
    drainOnce,
    start: () => wake.start(),
    stop: () => wake.stop(),
    running: () => wake.running(),
  };
}

/** Moves dead letters back into the outbox (one or all); returns how many. */
export async function replayDeadLetters(
  db: Pool,
  which: { tenantId: string; eventId: string } | 'all',
): Promise<number> {
  return inTransaction(db, async (client) => {
    const filter = which === 'all' ? '' : 'WHERE tenant_id = $1 AND event_id = $2';
    const params = which === 'all' ? [] : [which.tenantId, which.eventId];
    const { rows } = await client.query<{ tenant_id: string; event_id: string }>(
      `DELETE FROM outbox_dead_letters ${filter} RETURNING tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload`,
      params,
    );
    if (rows.length === 0) return 0;
    await client.query(
      `INSERT INTO outbox_events (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(
         tenant_id uuid, event_id uuid, event_name text, schema_version integer, occurred_at timestamptz,
         correlation_id text, causation_id text, payload jsonb)`,
      [JSON.stringify(rows)],
    );
    await client.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, '']);
    return rows.length;
  });
}

export async function listDeadLetters(
  db: Pool,
  tenantId?: string,
): Promise<
  {
    tenant_id: string;
    event_id: string;
    event_name: string;
    attempts: number;
    last_error: string;
    dead_at: Date;
  }[]
> {
  const { rows } = await db.query(
    `SELECT tenant_id, event_id, event_name, attempts, last_error, dead_at FROM outbox_dead_letters
     ${tenantId ? 'WHERE tenant_id = $1' : ''} ORDER BY dead_at DESC LIMIT 500`,
    tenantId ? [tenantId] : [],
  );
  return rows;
}
