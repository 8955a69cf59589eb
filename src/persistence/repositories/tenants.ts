import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db.ts';

// The identity module's tenants (`id_tenants`). Settings are free-form per tenant and read through
// src/domain/tenant-settings.ts, which supplies the defaults.

export type Tenant = {
  id: string;
  slug: string;
  name: string;
  time_zone: string;
  auth_org_id: string | null;
  twilio_number: string | null;
  forwarding_phone: string | null;
  settings: Record<string, unknown>;
};

const COLUMNS = 'id, slug, name, time_zone, auth_org_id, twilio_number, forwarding_phone, settings';

export async function findTenantByNumber(db: Queryable, twilioNumber: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>(`SELECT ${COLUMNS} FROM id_tenants WHERE twilio_number = $1`, [
    twilioNumber,
  ]);
  return rows[0] ?? null;
}

export async function findTenantById(db: Queryable, id: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>(`SELECT ${COLUMNS} FROM id_tenants WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function findTenantBySlug(db: Queryable, slug: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>(`SELECT ${COLUMNS} FROM id_tenants WHERE slug = $1`, [slug]);
  return rows[0] ?? null;
}

export async function findTenantByAuthOrg(db: Queryable, orgId: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>(`SELECT ${COLUMNS} FROM id_tenants WHERE auth_org_id = $1`, [
    orgId,
  ]);
  return rows[0] ?? null;
}

export type NewTenant = Omit<Tenant, 'id' | 'settings'> & { id?: string; settings?: Record<string, unknown> };

/** Inserts the tenant unless its slug exists; returns the stored row either way. */
export async function upsertTenantBySlug(
  db: Queryable,
  tenant: NewTenant,
): Promise<{ tenant: Tenant; created: boolean }> {
  const { rows } = await db.query<Tenant>(
    `INSERT INTO id_tenants (id, slug, name, time_zone, auth_org_id, twilio_number, forwarding_phone, settings)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (slug) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      tenant.id ?? randomUUID(),
      tenant.slug,
      tenant.name,
      tenant.time_zone,
      tenant.auth_org_id,
      tenant.twilio_number,
      tenant.forwarding_phone,
      tenant.settings ?? {},
    ],
  );
  if (rows[0]) return { tenant: rows[0], created: true };
  const existing = await findTenantBySlug(db, tenant.slug);
  if (!existing) throw new Error(`tenant ${tenant.slug} vanished during upsert`);
  return { tenant: existing, created: false };
}

/** Sets one settings key unless the tenant already has it (seeding never overwrites a choice). */
export async function ensureTenantSetting(
  db: Queryable,
  tenantId: string,
  key: string,
  value: unknown,
): Promise<void> {
  await db.query(
    `UPDATE id_tenants SET settings = settings || jsonb_build_object($2::text, $3::jsonb), updated_at = now()
     WHERE id = $1 AND NOT settings ? $2`,
    [tenantId, key, JSON.stringify(value)],
  );
}

export async function listTenants(db: Queryable): Promise<
  {
    id: string;
    slug: string;
    name: string;
    time_zone: string;
    auth_org_id: string | null;
    created_at: Date;
  }[]
> {
  const { rows } = await db.query(
    'SELECT id, slug, name, time_zone, auth_org_id, created_at FROM id_tenants ORDER BY created_at, id LIMIT 1000',
  );
  return rows;
}
