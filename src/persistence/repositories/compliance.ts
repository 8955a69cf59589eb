import type { CampaignStatus } from '../../machines/conversation-events.ts';
import type { Queryable } from '../db.ts';

// The compliance module (`comp_*`): 10DLC campaign status and the opt-out registry.

export async function campaignStatus(db: Queryable, tenantId: string): Promise<CampaignStatus> {
  const { rows } = await db.query<{ status: CampaignStatus }>(
    'SELECT status FROM comp_campaigns WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.status ?? 'none';
}

export async function setCampaignStatus(
  db: Queryable,
  tenantId: string,
  status: Exclude<CampaignStatus, 'none'>,
  reason: string | null = null,
): Promise<void> {
  await db.query(
    `INSERT INTO comp_campaigns (tenant_id, status, reason) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, updated_at = now()`,
    [tenantId, status, reason],
  );
}

export async function isOptedOut(db: Queryable, tenantId: string, phone: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2', [
    tenantId,
    phone,
  ]);
  return rowCount === 1;
}

export async function recordOptOut(
  db: Queryable,
  tenantId: string,
  phone: string,
  source: 'keyword' | 'provider' | 'carrier' | 'operator',
): Promise<void> {
  await db.query(
    'INSERT INTO comp_opt_outs (tenant_id, phone, source) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, phone) DO NOTHING',
    [tenantId, phone, source],
  );
}

export async function clearOptOut(db: Queryable, tenantId: string, phone: string): Promise<void> {
  await db.query('DELETE FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2', [tenantId, phone]);
}
