import type { Policy } from '../domain/policy.ts';
import type { Pool } from '../persistence/db.ts';

// Retention, run by a scheduled pg-boss job: each rule deletes in small batches, each batch its
// own short statement (so no long locks and no long transactions), until nothing past its period
// is left. Periods come from policy (defaults: messages 180 days, conversation and call metadata
// 13 months, webhook dedupe 90 days, dispatched outbox rows 30 days) — platform-wide values, since
// retention is a platform promise. `now` is passed in so tests run it with an injected clock.

export const RETENTION_BATCH = 500;

type Rule = { name: string; sql: string; days: (policy: Policy) => number };

// Each statement deletes at most one batch of rows older than $1 and returns how many.
const RULES: Rule[] = [
  {
    name: 'messages',
    days: (p) => p['retention.messages_days'],
    sql: `DELETE FROM conv_messages WHERE ctid IN (
            SELECT ctid FROM conv_messages WHERE created_at < $1 LIMIT ${RETENTION_BATCH})`,
  },
  {
    name: 'calls',
    days: (p) => p['retention.metadata_days'],
    sql: `DELETE FROM conv_calls WHERE ctid IN (
            SELECT ctid FROM conv_calls WHERE created_at < $1 LIMIT ${RETENTION_BATCH})`,
  },
  {
    // Closed conversations whose last activity is past the period (their messages go with them).
    name: 'conversations',
    days: (p) => p['retention.metadata_days'],
    sql: `DELETE FROM conv_conversations WHERE ctid IN (
            SELECT ctid FROM conv_conversations WHERE state = 'closed' AND last_activity_at < $1 LIMIT ${RETENTION_BATCH})`,
  },
  {
    name: 'applied_events',
    days: (p) => p['retention.webhook_events_days'],
    sql: `DELETE FROM conv_applied_events WHERE ctid IN (
            SELECT ctid FROM conv_applied_events WHERE applied_at < $1 LIMIT ${RETENTION_BATCH})`,
  },
  {
    name: 'webhook_events',
    days: (p) => p['retention.webhook_events_days'],
    sql: `DELETE FROM webhook_events WHERE ctid IN (
            SELECT ctid FROM webhook_events WHERE received_at < $1 LIMIT ${RETENTION_BATCH})`,
  },
  {
    name: 'outbox',
    days: (p) => p['retention.outbox_days'],
    sql: `WITH gone AS (
            DELETE FROM outbox_events WHERE ctid IN (
              SELECT ctid FROM outbox_events WHERE dispatched_at < $1 LIMIT ${RETENTION_BATCH})
            RETURNING tenant_id, event_id)
          , consumed AS (
            DELETE FROM outbox_consumptions c USING gone g WHERE c.tenant_id = g.tenant_id AND c.event_id = g.event_id)
          SELECT count(*)::int AS n FROM gone`,
  },
  {
    name: 'idempotency_keys',
    days: () => 0,
    sql: `DELETE FROM idempotency_keys WHERE ctid IN (
            SELECT ctid FROM idempotency_keys WHERE expires_at < $1 LIMIT ${RETENTION_BATCH})`,
  },
];

export async function runRetention(db: Pool, policy: Policy, now: Date): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const rule of RULES) {
    const cutoff = new Date(now.getTime() - rule.days(policy) * 86_400_000);
    let total = 0;
    for (;;) {
      const result = await db.query<{ n: number }>(rule.sql, [cutoff]);
      const count = rule.name === 'outbox' ? (result.rows[0]?.n ?? 0) : (result.rowCount ?? 0);
      total += count;
      if (count < RETENTION_BATCH) break;
    }
    removed[rule.name] = total;
  }
  return removed;
}
