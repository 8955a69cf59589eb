import type { PriorText } from '../../domain/alert-delivery.ts';
import type { Queryable } from '../db.ts';

// The conversation module's alerts (`conv_alerts`) and the texts they cause (`conv_alert_texts`).

export type AlertRow = {
  tenant_id: string;
  id: string;
  conversation_id: string;
  reason: string;
  urgent: boolean;
  state: 'open' | 'acknowledged';
  created_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_via: 'app' | 'sms' | null;
};

const ALERT_COLUMNS =
  'tenant_id, id, conversation_id, reason, urgent, state, created_at, acknowledged_at, acknowledged_by, acknowledged_via';

/** Records an alert once per source event; null when this event was already recorded. */
export async function insertAlert(
  db: Queryable,
  alert: {
    tenantId: string;
    id: string;
    conversationId: string;
    reason: string;
    urgent: boolean;
    sourceEventId: string;
    at: string;
  },
): Promise<AlertRow | null> {
  const { rows } = await db.query<AlertRow>(
    `INSERT INTO conv_alerts (tenant_id, id, conversation_id, reason, urgent, source_event_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, source_event_id) DO NOTHING
     RETURNING ${ALERT_COLUMNS}`,
    [
      alert.tenantId,
      alert.id,
      alert.conversationId,
      alert.reason,
      alert.urgent,
      alert.sourceEventId,
      alert.at,
    ],
  );
  return rows[0] ?? null;
}

export async function findAlert(db: Queryable, tenantId: string, id: string): Promise<AlertRow | null> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM conv_alerts WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/** Newest first, keyset-paged on (created_at, id). */
export async function listAlerts(
  db: Queryable,
  tenantId: string,
  filter: {
    state: 'open' | 'acknowledged' | null;
    conversationId: string | null;
    after: { at: string; id: string } | null;
    limit: number;
  },
): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM conv_alerts
     WHERE tenant_id = $1 AND ($2::text IS NULL OR state = $2)
       AND ($3::uuid IS NULL OR conversation_id = $3)
       AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $6`,
    [
      tenantId,
      filter.state,
      filter.conversationId,
      filter.after?.at ?? null,
      filter.after?.id ?? null,
      filter.limit,
    ],
  );
  return rows;
}

/**
 * Acknowledges an open alert and cancels its texts that have not left yet. Returns the alert as it
 * now is (already acknowledged ones unchanged), or null when it is not the tenant's.
 */
export async function acknowledgeAlert(
  db: Queryable,
  tenantId: string,
  id: string,
  by: { who: string; via: 'app' | 'sms' },
): Promise<AlertRow | null> {
  const { rows } = await db.query<AlertRow>(
    `UPDATE conv_alerts SET state = 'acknowledged', acknowledged_at = now(), acknowledged_by = $3, acknowledged_via = $4
     WHERE tenant_id = $1 AND id = $2 AND state = 'open' RETURNING ${ALERT_COLUMNS}`,
    [tenantId, id, by.who, by.via],
  );
  if (!rows[0]) return findAlert(db, tenantId, id);
  await db.query(
    `UPDATE conv_alert_texts SET status = 'cancelled' WHERE tenant_id = $1 AND alert_id = $2 AND status = 'queued'`,
    [tenantId, id],
  );
  return rows[0];
}

/** The newest open alert that was texted (or held to be texted) to this phone. */
export async function latestOpenAlertTextedTo(
  db: Queryable,
  tenantId: string,
  phone: string,
): Promise<AlertRow | null> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS.split(', ')
      .map((c) => `a.${c}`)
      .join(', ')}
     FROM conv_alerts a
     WHERE a.tenant_id = $1 AND a.state = 'open'
       AND EXISTS (SELECT 1 FROM conv_alert_texts t
                   WHERE t.tenant_id = a.tenant_id AND t.alert_id = a.id AND t.to_phone = $2
                     AND t.status IN ('queued', 'sending', 'sent'))
     ORDER BY a.created_at DESC, a.id DESC LIMIT 1
     FOR UPDATE OF a`,
    [tenantId, phone],
  );
  return rows[0] ?? null;
}

export type AlertTextStatus = 'queued' | 'sending' | 'sent' | 'skipped' | 'cancelled' | 'failed';

export type AlertTextRow = {
  tenant_id: string;
  id: string;
  alert_id: string;
  round: number;
  user_id: string | null;
  to_phone: string;
  conversation_id: string;
  urgent: boolean;
  body: string;
  status: AlertTextStatus;
  skip_reason: string | null;
  failure_reason: string | null;
  send_after: Date;
  attempts: number;
  provider_sid: string | null;
  created_at: Date;
};

const TEXT_COLUMNS =
  'tenant_id, id, alert_id, round, user_id, to_phone, conversation_id, urgent, body, status, skip_reason, failure_reason, send_after, attempts, provider_sid, created_at';

/** Inserts a decided text; false when this alert's round already has a text for that phone. */
export async function insertAlertText(
  db: Queryable,
  text: {
    tenantId: string;
    id: string;
    alertId: string;
    round: number;
    userId: string | null;
    toPhone: string;
    conversationId: string;
    urgent: boolean;
    body: string;
    status: 'queued' | 'skipped';
    skipReason: string | null;
    sendAfter: string;
  },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO conv_alert_texts (tenant_id, id, alert_id, round, user_id, to_phone, conversation_id, urgent, body, status, skip_reason, send_after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (tenant_id, alert_id, round, to_phone) DO NOTHING`,
    [
      text.tenantId,
      text.id,
      text.alertId,
      text.round,
      text.userId,
      text.toPhone,
      text.conversationId,
      text.urgent,
      text.body,
      text.status,
      text.skipReason,
      text.sendAfter,
    ],
  );
  return (rowCount ?? 0) > 0;
}

/** The texts decided for a phone (not skipped, cancelled or failed) leaving after `since`. */
export async function priorTextsTo(
  db: Queryable,
  tenantId: string,
  phone: string,
  since: string,
): Promise<PriorText[]> {
  const { rows } = await db.query<{ conversation_id: string; send_after: Date; urgent: boolean }>(
    `SELECT conversation_id, send_after, urgent FROM conv_alert_texts
     WHERE tenant_id = $1 AND to_phone = $2 AND send_after > $3 AND status IN ('queued', 'sending', 'sent')`,
    [tenantId, phone, since],
  );
  return rows.map((r) => ({
    conversationId: r.conversation_id,
    at: r.send_after.getTime(),
    urgent: r.urgent,
  }));
}

/** Who the alert's first round went to (texted or not): the people its reminders are for. */
export async function firstRoundRecipients(
  db: Queryable,
  tenantId: string,
  alertId: string,
): Promise<{ user_id: string | null; phone: string }[]> {
  const { rows } = await db.query<{ user_id: string | null; to_phone: string }>(
    `SELECT user_id, to_phone FROM conv_alert_texts WHERE tenant_id = $1 AND alert_id = $2 AND round = 0
     ORDER BY to_phone`,
    [tenantId, alertId],
  );
  return rows.map((r) => ({ user_id: r.user_id, phone: r.to_phone }));
}

export async function findAlertText(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<AlertTextRow | null> {
  const { rows } = await db.query<AlertTextRow>(
    `SELECT ${TEXT_COLUMNS} FROM conv_alert_texts WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

export async function listAlertTexts(
  db: Queryable,
  tenantId: string,
  alertId: string,
): Promise<AlertTextRow[]> {
  const { rows } = await db.query<AlertTextRow>(
    `SELECT ${TEXT_COLUMNS} FROM conv_alert_texts WHERE tenant_id = $1 AND alert_id = $2 ORDER BY round, to_phone`,
    [tenantId, alertId],
  );
  return rows;
}

/**
 * Claims a queued text for sending (queued → sending, counting the attempt); a text already
 * claimed by this very attempt (its worker died) is claimed again. Null when it is no longer due to
 * leave (sent, cancelled by an acknowledgement, failed).
 */
export async function claimAlertText(
  db: Queryable,
  tenantId: string,
  id: string,
  attempt: number,
): Promise<AlertTextRow | null> {
  const { rows } = await db.query<AlertTextRow>(
    `UPDATE conv_alert_texts SET status = 'sending', attempts = $3
     WHERE tenant_id = $1 AND id = $2 AND provider_sid IS NULL
       AND (status = 'queued' OR (status = 'sending' AND attempts <= $3))
     RETURNING ${TEXT_COLUMNS}`,
    [tenantId, id, attempt],
  );
  return rows[0] ?? null;
}

export async function finishAlertText(
  db: Queryable,
  tenantId: string,
  id: string,
  outcome: { status: 'sent'; providerSid: string } | { status: 'failed' | 'cancelled'; reason: string },
): Promise<void> {
  if (outcome.status === 'sent') {
    await db.query(
      `UPDATE conv_alert_texts SET status = 'sent', provider_sid = $3, sent_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, outcome.providerSid],
    );
  } else {
    await db.query(
      `UPDATE conv_alert_texts SET status = $3, failure_reason = $4 WHERE tenant_id = $1 AND id = $2 AND provider_sid IS NULL`,
      [tenantId, id, outcome.status, outcome.reason],
    );
  }
}

/** Back to queued for a retry after a failure that may be retried. */
export async function requeueAlertText(
  db: Queryable,
  tenantId: string,
  id: string,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE conv_alert_texts SET status = 'queued', failure_reason = $3
     WHERE tenant_id = $1 AND id = $2 AND status = 'sending'`,
    [tenantId, id, reason],
  );
}
