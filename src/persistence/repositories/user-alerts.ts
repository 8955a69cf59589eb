import type { QuietHours } from '../../domain/alert-delivery.ts';
import type { Queryable } from '../db.ts';

// Who gets alert texts (`id_users` alert columns): the phone a team member gave, whether they opted
// in, and their quiet hours in the tenant's zone.

export type AlertSettings = {
  user_id: string;
  phone: string | null;
  alerts_enabled: boolean;
  quiet: QuietHours | null;
};

export type AlertRecipient = { user_id: string | null; phone: string; quiet: QuietHours | null };

type Row = {
  id: string;
  alert_phone: string | null;
  alerts_enabled: boolean;
  quiet_start_minute: number | null;
  quiet_end_minute: number | null;
};

const COLUMNS = 'id, alert_phone, alerts_enabled, quiet_start_minute, quiet_end_minute';

function toSettings(row: Row): AlertSettings {
  return {
    user_id: row.id,
    phone: row.alert_phone,
    alerts_enabled: row.alerts_enabled,
    quiet:
      row.quiet_start_minute === null || row.quiet_end_minute === null
        ? null
        : { startMinute: row.quiet_start_minute, endMinute: row.quiet_end_minute },
  };
}

export async function findAlertSettings(
  db: Queryable,
  tenantId: string,
  userId: string,
): Promise<AlertSettings | null> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM id_users WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    userId,
  ]);
  return rows[0] ? toSettings(rows[0]) : null;
}

/** Replaces a user's alert settings; null when the user is not the tenant's. */
export async function setAlertSettings(
  db: Queryable,
  tenantId: string,
  settings: AlertSettings,
): Promise<AlertSettings | null> {
  const { rows } = await db.query<Row>(
    `UPDATE id_users SET alert_phone = $3, alerts_enabled = $4, quiet_start_minute = $5, quiet_end_minute = $6
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [
      tenantId,
      settings.user_id,
      settings.phone,
      settings.alerts_enabled,
      settings.quiet?.startMinute ?? null,
      settings.quiet?.endMinute ?? null,
    ],
  );
  return rows[0] ? toSettings(rows[0]) : null;
}

/** The active team members who opted in to alert texts, one per phone. */
export async function listAlertRecipients(db: Queryable, tenantId: string): Promise<AlertRecipient[]> {
  const { rows } = await db.query<Row>(
    `SELECT DISTINCT ON (alert_phone) ${COLUMNS} FROM id_users
     WHERE tenant_id = $1 AND alerts_enabled AND active AND alert_phone IS NOT NULL
     ORDER BY alert_phone, created_at, id`,
    [tenantId],
  );
  return rows.map((row) => {
    const settings = toSettings(row);
    return { user_id: settings.user_id, phone: settings.phone as string, quiet: settings.quiet };
  });
}
