import { type Policy, resolvePolicy } from '../../domain/policy.ts';
import type { Queryable } from '../db.ts';

/** The tenant's business constants: defaults, then platform rows, then the tenant's own rows. */
export async function loadPolicy(db: Queryable, tenantId: string): Promise<Policy> {
  const { rows } = await db.query<{ key: string; value: unknown }>(
    `SELECT key, value FROM policy_values WHERE tenant_id IS NULL OR tenant_id = $1
     ORDER BY tenant_id NULLS FIRST`,
    [tenantId],
  );
  return resolvePolicy(rows);
}

export async function setPolicyValue(
  db: Queryable,
  tenantId: string | null,
  key: string,
  value: unknown,
): Promise<void> {
  await db.query(
    `INSERT INTO policy_values (tenant_id, key, value) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [tenantId, key, JSON.stringify(value)],
  );
}

/** Platform-wide business constants (defaults, then rows with a NULL tenant). */
export async function loadPlatformPolicy(db: Queryable): Promise<Policy> {
  const { rows } = await db.query<{ key: string; value: unknown }>(
    'SELECT key, value FROM policy_values WHERE tenant_id IS NULL',
  );
  return resolvePolicy(rows);
}
