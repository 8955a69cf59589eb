import type { Queryable } from '../../db.ts';

// What a Jobber webhook needs: the calendars of the connections to its Jobber account (it arrives
// without a tenant; the account id is the key), a receipt per delivery and calendar (dedupe), and
// the push time the sweep reads (a calendar whose webhooks went quiet is polled).

export type JobberTarget = {
  tenant_id: string;
  connection_id: string;
  calendar_id: string;
  blocks_time: boolean;
};

export async function calendarsOfJobberAccount(db: Queryable, accountId: string): Promise<JobberTarget[]> {
  const { rows } = await db.query<JobberTarget>(
    `SELECT l.tenant_id, l.connection_id, l.id AS calendar_id, l.blocks_time
     FROM sched_calendar_connections c
     JOIN sched_calendar_links l ON l.tenant_id = c.tenant_id AND l.connection_id = c.id
     WHERE c.provider = 'jobber' AND c.account = $1 AND c.status = 'active'`,
    [accountId],
  );
  return rows;
}

/** Records a delivery for a calendar; false when it was received before (a redelivery). */
export async function recordJobberReceipt(
  db: Queryable,
  r: { tenantId: string; calendarId: string; deliveryHash: Buffer; topic: string; at: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO sched_jobber_webhook_receipts (tenant_id, calendar_id, delivery_hash, topic, received_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [r.tenantId, r.calendarId, r.deliveryHash, r.topic, r.at],
  );
  if (rowCount !== 1) return false;
  await db.query('UPDATE sched_calendar_links SET last_push_at = $3 WHERE tenant_id = $1 AND id = $2', [
    r.tenantId,
    r.calendarId,
    r.at,
  ]);
  return true;
}

export async function countJobberReceipts(
  db: Queryable,
  tenantId: string,
  calendarId: string,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sched_jobber_webhook_receipts WHERE tenant_id = $1 AND calendar_id = $2',
    [tenantId, calendarId],
  );
  return rows[0]?.n ?? 0;
}

export async function purgeJobberReceipts(db: Queryable, before: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM sched_jobber_webhook_receipts WHERE received_at < $1', [
    before,
  ]);
  return rowCount ?? 0;
}
