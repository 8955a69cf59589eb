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
  maxAttempts?: number;
};

export type OutboxDispatcher = {
  /** Delivers one batch; returns how many events it handled (delivered, retried or dead-lettered). */
  drainOnce(): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
};

type OutboxRow = EventEnvelope & { attempts: number; occurred_at: string | Date };

export function createOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 6;

  async function deliver(client: PoolClient, row: OutboxRow): Promise<void> {
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
    const { rows: consumed } = await client.query<{ subscriber: string }>(
      'SELECT subscriber FROM outbox_consumptions WHERE tenant_id = $1 AND event_id = $2',
      [row.tenant_id, row.event_id],
    );
    const done = new Set(consumed.map((c) => c.subscriber));
    for (const subscriber of options.subscribers) {
      if (done.has(subscriber.name)) continue;
      if (subscriber.events !== '*' && !subscriber.events.includes(envelope.event_name)) continue;
      await subscriber.handle(envelope);
      await client.query(
        'INSERT INTO outbox_consumptions (tenant_id, event_id, subscriber) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [row.tenant_id, row.event_id, subscriber.name],
      );
    }
  }

  async function drainOnce(): Promise<number> {
    return inTransaction(options.db, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload, attempts
         FROM outbox_events
         WHERE dispatched_at IS NULL AND next_attempt_at <= now()
         ORDER BY seq
         LIMIT $1
         FOR UPDATE SKIP LOCKED`,
        [options.batchSize],
      );
      for (const row of rows) {
        await client.query('SAVEPOINT delivery');
        try {
          await deliver(client, row);
          await client.query('RELEASE SAVEPOINT delivery');
          await client.query(
            'UPDATE outbox_events SET dispatched_at = now(), attempts = attempts + 1 WHERE tenant_id = $1 AND event_id = $2',
            [row.tenant_id, row.event_id],
          );
          options.metrics?.outboxDelivered.labels({ outcome: 'delivered' }).inc();
        } catch (err) {
          // A subscriber's own failure leaves the transaction usable, and the consumptions recorded
          // before it are kept (those subscribers are done). A database error aborts the savepoint.
          const sqlError =
            typeof (err as { code?: unknown }).code === 'string' &&
            /^[0-9A-Z]{5}$/.test((err as { code: string }).code);
          await client.query(sqlError ? 'ROLLBACK TO SAVEPOINT delivery' : 'RELEASE SAVEPOINT delivery');
          const attempts = row.attempts + 1;
          const message = (err as Error).message?.slice(0, 1000) ?? String(err);
          if (shouldDeadLetter(attempts, maxAttempts)) {
            await client.query(
              `INSERT INTO outbox_dead_letters (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload, attempts, last_error)
               SELECT tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload, $3, $4
               FROM outbox_events WHERE tenant_id = $1 AND event_id = $2
               ON CONFLICT (tenant_id, event_id) DO UPDATE SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, dead_at = now()`,
              [row.tenant_id, row.event_id, attempts, message],
            );
            await client.query('DELETE FROM outbox_events WHERE tenant_id = $1 AND event_id = $2', [
              row.tenant_id,
              row.event_id,
            ]);
            options.metrics?.outboxDelivered.labels({ outcome: 'dead_lettered' }).inc();
            options.logger.warn(
              { event_id: row.event_id, event_name: row.event_name, attempts },
              'outbox event dead-lettered',
            );
          } else {
            const delayMs = backoffDelayMs(attempts - 1, random);
            await client.query(
              `UPDATE outbox_events SET attempts = $3, last_error = $4, next_attempt_at = now() + make_interval(secs => $5::float8 / 1000)
               WHERE tenant_id = $1 AND event_id = $2`,
              [row.tenant_id, row.event_id, attempts, message, delayMs],
            );
            options.metrics?.outboxDelivered.labels({ outcome: 'retried' }).inc();
          }
        }
      }
      return rows.length;
    });
  }

  const wake = createOutboxWake({
    connectionString: options.connectionString,
    applicationName: 'nevermisscall-outbox',
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
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
