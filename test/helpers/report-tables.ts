import type { Queryable } from '../../src/persistence/db.ts';

// The reporting read models as plain rows, for comparing a rebuild or a replay with the live tables.
// Days whose totals are all zero are left out: a row that went up and back down is no number.

export async function reportTables(db: Queryable): Promise<{
  funnel: Record<string, unknown>[];
  firstResponse: Record<string, unknown>[];
  conversations: Record<string, unknown>[];
  appointments: Record<string, unknown>[];
}> {
  const funnel = await db.query(
    `SELECT * FROM rep_funnel_daily
     WHERE (missed, texted, replied, quoted, held, booked, reminded, cancelled, completed, no_show, opted_out, taken_over,
            takeover_seconds, revenue_booked_cents, revenue_kept_cents) <> (0,0,0,0,0,0,0,0,0,0,0,0,0,0,0)
     ORDER BY tenant_id, day`,
  );
  const firstResponse = await db.query(
    'SELECT * FROM rep_first_response_daily WHERE responses <> 0 ORDER BY tenant_id, day, bucket_ms',
  );
  const conversations = await db.query('SELECT * FROM rep_conversations ORDER BY tenant_id, conversation_id');
  const appointments = await db.query('SELECT * FROM rep_appointments ORDER BY tenant_id, appointment_id');
  return {
    funnel: funnel.rows,
    firstResponse: firstResponse.rows,
    conversations: conversations.rows,
    appointments: appointments.rows,
  };
}

/** Waits until every outbox event is dispatched and nothing new arrived for a moment. */
export async function outboxSettled(db: Queryable, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  let quietSince = 0;
  let lastTotal = -1;
  for (;;) {
    const { rows } = await db.query<{ pending: number; total: number }>(
      'SELECT count(*) FILTER (WHERE dispatched_at IS NULL)::int AS pending, count(*)::int AS total FROM outbox_events',
    );
    const { pending = 1, total = 0 } = rows[0] ?? {};
    if (pending === 0 && total === lastTotal) {
      if (Date.now() - quietSince >= 300) return;
    } else {
      quietSince = Date.now();
    }
    lastTotal = total;
    if (Date.now() - started > timeoutMs) throw new Error(`outbox not settled within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
