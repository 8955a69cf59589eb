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

/** The time zones of the tenants among `ids` that exist, by id (one read for a batch of events). */
export async function findTenantTimeZones(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; time_zone: string }>(
    'SELECT id, time_zone FROM id_tenants WHERE id = ANY($1::uuid[])',
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r.time_zone]));
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

/**
 * Sets the business's messaging settings: the two greeting templates (null: back to the default)
 * and whether public booking is on. Keys left out are kept.
 */
export async function setMessagingSettings(
  db: Queryable,
  tenantId: string,
  change: { greeting?: string | null; greetingAfterHours?: string | null; publicBookingEnabled?: boolean },
): Promise<void> {
  const set: Record<string, string> = {};
  const cleared: string[] = [];
  for (const [key, value] of [
    ['greeting', change.greeting],
    ['greetingAfterHours', change.greetingAfterHours],
  ] as const) {
    if (typeof value === 'string') set[key] = value;
    else if (value === null) cleared.push(key);
  }
  await db.query(
    `UPDATE id_tenants SET settings = settings
       || jsonb_build_object('templates', (COALESCE(settings->'templates', '{}'::jsonb) - $3::text[]) || $2::jsonb)
       || CASE WHEN $4::boolean IS NULL THEN '{}'::jsonb
               ELSE jsonb_build_object('public_booking_enabled', $4::boolean) END,
       updated_at = now()
     WHERE id = $1`,
    [tenantId, JSON.stringify(set), cleared, change.publicBookingEnabled ?? null],
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

// Provisioning's writes to the tenant row (src/runtime/provisioning): the profile, the number, the
// lifecycle, and the whole tenant's data for its export and deletion.

export async function lockTenant(db: Queryable, tenantId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM id_tenants WHERE id = $1 FOR UPDATE', [tenantId]);
  return rowCount === 1;
}

export async function updateTenantProfile(
  db: Queryable,
  tenantId: string,
  profile: { name: string; time_zone: string; forwarding_phone: string },
): Promise<void> {
  await db.query(
    'UPDATE id_tenants SET name = $2, time_zone = $3, forwarding_phone = $4, updated_at = now() WHERE id = $1',
    [tenantId, profile.name, profile.time_zone, profile.forwarding_phone],
  );
}

export async function setTenantNumber(db: Queryable, tenantId: string, number: string | null): Promise<void> {
  await db.query('UPDATE id_tenants SET twilio_number = $2, updated_at = now() WHERE id = $1', [
    tenantId,
    number,
  ]);
}

/** Marks the tenant closed at `at` (the first close counts). */
export async function closeTenantRow(db: Queryable, tenantId: string, at: Date): Promise<void> {
  await db.query(
    'UPDATE id_tenants SET closed_at = coalesce(closed_at, $2), updated_at = now() WHERE id = $1',
    [tenantId, at],
  );
}

export async function tenantClosedAt(db: Queryable, tenantId: string): Promise<Date | null> {
  const { rows } = await db.query<{ closed_at: Date | null }>(
    'SELECT closed_at FROM id_tenants WHERE id = $1',
    [tenantId],
  );
  return rows[0]?.closed_at ?? null;
}

/** Every table that keeps tenant rows (a `tenant_id` column), found in the catalog, not listed by hand. */
async function tenantTables(db: Queryable, except: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND column_name = 'tenant_id' AND NOT (table_name = ANY($1::text[]))
     ORDER BY table_name`,
    [except],
  );
  return rows.map((r) => r.table_name);
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** All of the tenant's rows, table by table (the tenant row under `id_tenants`). */
export async function readTenantData(
  db: Queryable,
  tenantId: string,
  except: readonly string[],
): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  tables.id_tenants = (await db.query('SELECT * FROM id_tenants WHERE id = $1', [tenantId])).rows;
  for (const table of await tenantTables(db, except)) {
    const { rows } = await db.query(`SELECT * FROM ${quoteIdent(table)} WHERE tenant_id = $1`, [tenantId]);
    if (rows.length > 0) tables[table] = rows;
  }
  return tables;
}

/**
 * Deletes the tenant and every row that names it: the tenant first (its tables cascade), then the
 * tables that keep tenant rows without a foreign key (the outbox, audit and idempotency records).
 */
export async function deleteTenantData(db: Queryable, tenantId: string): Promise<void> {
  await db.query('DELETE FROM id_tenants WHERE id = $1', [tenantId]);
  for (const table of await tenantTables(db, [])) {
    await db.query(`DELETE FROM ${quoteIdent(table)} WHERE tenant_id = $1`, [tenantId]);
  }
}
