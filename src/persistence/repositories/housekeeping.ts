import type { Queryable } from '../db.ts';

// The shared infrastructure tables: claiming a provider callback, and retention of the webhook
// dedupe rows, the outbox and idempotency keys (each purge deletes at most one batch and returns
// how many rows went).

/**
 * Claims a provider callback by its provider identity, in the caller's transaction: true for the
 * first claim; false when it was applied already (a concurrent claim waits for the first to end).
 */
export async function claimWebhook(
  db: Queryable,
  webhook: { provider: string; key: string; tenantId: string | null },
): Promise<boolean> {
  const claimed = await db.query(
    'INSERT INTO webhook_events (provider, event_key, tenant_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [webhook.provider, webhook.key, webhook.tenantId],
  );
  return claimed.rowCount === 1;
}

export async function purgeWebhookEventsBefore(db: Queryable, cutoff: Date, batch: number): Promise<number> {
  const result = await db.query(
    'DELETE FROM webhook_events WHERE ctid IN (SELECT ctid FROM webhook_events WHERE received_at < $1 LIMIT $2)',
    [cutoff, batch],
  );
  return result.rowCount ?? 0;
}

/** Dispatched outbox events (and their consumption records) dispatched before `cutoff`. */
export async function purgeDispatchedOutboxBefore(
  db: Queryable,
  cutoff: Date,
  batch: number,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM outbox_events WHERE ctid IN (SELECT ctid FROM outbox_events WHERE dispatched_at < $1 LIMIT $2)
       RETURNING tenant_id, event_id),
     consumed AS (
       DELETE FROM outbox_consumptions c USING gone g WHERE c.tenant_id = g.tenant_id AND c.event_id = g.event_id)
     SELECT count(*)::int AS n FROM gone`,
    [cutoff, batch],
  );
  return rows[0]?.n ?? 0;
}

export async function purgeExpiredIdempotencyKeys(db: Queryable, now: Date, batch: number): Promise<number> {
  const result = await db.query(
    'DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at < $1 LIMIT $2)',
    [now, batch],
  );
  return result.rowCount ?? 0;
}

/** What the operational gauges read at each scrape: the outbox's backlog and its dead letters. */
export async function outboxHealth(
  db: Queryable,
  now: Date,
): Promise<{ lagSeconds: number; pending: number; deadLetters: number }> {
  const { rows } = await db.query<{ oldest: Date | null; pending: number; dead: number }>(
    `SELECT (SELECT min(occurred_at) FROM outbox_events WHERE dispatched_at IS NULL) AS oldest,
            (SELECT count(*)::int FROM outbox_events WHERE dispatched_at IS NULL) AS pending,
            (SELECT count(*)::int FROM outbox_dead_letters) AS dead`,
  );
  const row = rows[0];
  const oldest = row?.oldest ?? null;
  return {
    lagSeconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
    pending: row?.pending ?? 0,
    deadLetters: row?.dead ?? 0,
  };
}
