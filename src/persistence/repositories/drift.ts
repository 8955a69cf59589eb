import type { Queryable } from '../db.ts';

// Reconciliation's drift report (prov_drift): one row per tenant, kind and subject, open until a
// scan no longer finds it.

export type DriftRow = {
  tenant_id: string;
  kind: string;
  subject: string;
  expected: unknown;
  actual: unknown;
  first_seen_at: Date;
  last_seen_at: Date;
  repaired_at: Date | null;
  resolved_at: Date | null;
};

/** Records a finding; true when it is new (never seen, or seen again after it was resolved). */
export async function recordDrift(
  db: Queryable,
  input: {
    tenantId: string;
    kind: string;
    subject: string;
    expected: unknown;
    actual: unknown;
    repaired: boolean;
  },
): Promise<boolean> {
  const { rows } = await db.query<{ opened: boolean }>(
    `INSERT INTO prov_drift (tenant_id, kind, subject, expected, actual, repaired_at)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)
     ON CONFLICT (tenant_id, kind, subject) DO UPDATE SET
       expected = EXCLUDED.expected, actual = EXCLUDED.actual, last_seen_at = now(),
       first_seen_at = CASE WHEN prov_drift.resolved_at IS NOT NULL THEN now() ELSE prov_drift.first_seen_at END,
       repaired_at = CASE WHEN $6 THEN now() WHEN prov_drift.resolved_at IS NOT NULL THEN NULL ELSE prov_drift.repaired_at END,
       resolved_at = NULL
     RETURNING (xmax = 0 OR first_seen_at = last_seen_at) AS opened`,
    [
      input.tenantId,
      input.kind,
      input.subject,
      JSON.stringify(input.expected),
      JSON.stringify(input.actual),
      input.repaired,
    ],
  );
  return rows[0]?.opened ?? false;
}

/** Closes the tenant's open findings of these kinds that this scan did not see again. */
export async function resolveUnseenDrift(
  db: Queryable,
  tenantId: string,
  kinds: readonly string[],
  seen: readonly { kind: string; subject: string }[],
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE prov_drift SET resolved_at = now()
     WHERE tenant_id = $1 AND resolved_at IS NULL AND kind = ANY($2::text[])
       AND NOT ((kind, subject) IN (SELECT * FROM jsonb_to_recordset($3::jsonb) AS s(kind text, subject text)))`,
    [tenantId, kinds, JSON.stringify(seen)],
  );
  return rowCount ?? 0;
}

export async function listDrift(
  db: Queryable,
  filter: { tenantId?: string; openOnly?: boolean; limit?: number },
): Promise<DriftRow[]> {
  const { rows } = await db.query<DriftRow>(
    `SELECT tenant_id, kind, subject, expected, actual, first_seen_at, last_seen_at, repaired_at, resolved_at
     FROM prov_drift
     WHERE ($1::uuid IS NULL OR tenant_id = $1) AND (NOT $2 OR resolved_at IS NULL)
     ORDER BY last_seen_at DESC, tenant_id, kind, subject LIMIT $3`,
    [filter.tenantId ?? null, filter.openOnly ?? false, filter.limit ?? 500],
  );
  return rows;
}
