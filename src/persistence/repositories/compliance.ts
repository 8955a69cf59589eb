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

export type CampaignRow = {
  tenant_id: string;
  status: 'pending' | 'approved' | 'rejected';
  reason: string | null;
  details: Record<string, unknown>;
  submitted_at: Date | null;
  reviewed_at: Date | null;
  reviewer: string | null;
  provider_ref: string | null;
  updated_at: Date;
};

const CAMPAIGN_COLUMNS =
  'tenant_id, status, reason, details, submitted_at, reviewed_at, reviewer, provider_ref, updated_at';

export async function findCampaign(db: Queryable, tenantId: string): Promise<CampaignRow | null> {
  const { rows } = await db.query<CampaignRow>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM comp_campaigns WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows[0] ?? null;
}

/** Locks the tenant's campaign row for a status change (none yet: null). */
export async function lockCampaign(db: Queryable, tenantId: string): Promise<CampaignRow | null> {
  const { rows } = await db.query<CampaignRow>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM comp_campaigns WHERE tenant_id = $1 FOR UPDATE`,
    [tenantId],
  );
  return rows[0] ?? null;
}

export async function submitRegistration(
  db: Queryable,
  tenantId: string,
  details: unknown,
  providerRef: string,
): Promise<CampaignRow> {
  const { rows } = await db.query<CampaignRow>(
    `INSERT INTO comp_campaigns (tenant_id, status, details, submitted_at, provider_ref)
     VALUES ($1, 'pending', $2, now(), $3)
     ON CONFLICT (tenant_id) DO UPDATE SET status = 'pending', reason = NULL, details = EXCLUDED.details,
       submitted_at = now(), reviewed_at = NULL, reviewer = NULL, provider_ref = EXCLUDED.provider_ref, updated_at = now()
     RETURNING ${CAMPAIGN_COLUMNS}`,
    [tenantId, JSON.stringify(details), providerRef],
  );
  const row = rows[0];
  if (!row) throw new Error('campaign upsert returned nothing');
  return row;
}

export async function recordReview(
  db: Queryable,
  tenantId: string,
  review: { status: 'approved' | 'rejected'; reason: string | null; reviewer: string },
): Promise<CampaignRow | null> {
  const { rows } = await db.query<CampaignRow>(
    `UPDATE comp_campaigns SET status = $2, reason = $3, reviewer = $4, reviewed_at = now(), updated_at = now()
     WHERE tenant_id = $1 RETURNING ${CAMPAIGN_COLUMNS}`,
    [tenantId, review.status, review.reason, review.reviewer],
  );
  return rows[0] ?? null;
}

export async function listPendingCampaigns(db: Queryable, limit = 100): Promise<CampaignRow[]> {
  const { rows } = await db.query<CampaignRow>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM comp_campaigns WHERE status = 'pending' ORDER BY updated_at LIMIT $1`,
    [limit],
  );
  return rows;
}

export type OptOutRow = { phone: string; source: string; opted_out_at: Date };

/** The opt-out registry, newest first, keyset-paginated on (opted_out_at, phone). */
export async function listOptOuts(
  db: Queryable,
  tenantId: string,
  page: { limit: number; after?: { at: string; phone: string } },
): Promise<OptOutRow[]> {
  const { rows } = await db.query<OptOutRow>(
    `SELECT phone, source, opted_out_at FROM comp_opt_outs
     WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (opted_out_at, phone) < ($2::timestamptz, $3::text))
     ORDER BY opted_out_at DESC, phone DESC LIMIT $4`,
    [tenantId, page.after?.at ?? null, page.after?.phone ?? null, page.limit],
  );
  return rows;
}

/** Sets the campaign status only when the tenant has none yet (seeding). */
export async function ensureCampaignStatus(
  db: Queryable,
  tenantId: string,
  status: 'pending' | 'approved',
): Promise<void> {
  await db.query(
    'INSERT INTO comp_campaigns (tenant_id, status) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING',
    [tenantId, status],
  );
}

/** The two compliance facts a conversation decides with, in one round trip. */
export async function complianceFacts(
  db: Queryable,
  tenantId: string,
  phone: string,
): Promise<{ campaignStatus: CampaignStatus; optedOut: boolean }> {
  const { rows } = await db.query<{ status: CampaignStatus | null; opted_out: boolean }>(
    `SELECT (SELECT status FROM comp_campaigns WHERE tenant_id = $1) AS status,
            EXISTS (SELECT 1 FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2) AS opted_out`,
    [tenantId, phone],
  );
  return { campaignStatus: rows[0]?.status ?? 'none', optedOut: rows[0]?.opted_out ?? false };
}
