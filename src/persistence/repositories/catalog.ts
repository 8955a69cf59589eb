import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { type Money, moneySchema } from '../../domain/money.ts';
import type { Queryable } from '../db.ts';

// The catalog module's Service Items (`catalog_services`), in the JSON shape of docs/product.md:
// `{ id, name, duration_minutes, price: { amount_cents, currency }, active, aliases }`.
// Services are never deleted, only deactivated: holds and appointments keep naming them, and only
// active ones are quoted or booked. Two active services of a tenant never share a name.

export type Service = {
  id: string;
  name: string;
  duration_minutes: number;
  price: Money;
  active: boolean;
  aliases: string[];
};

const text = (max: number) => z.string().trim().min(1).max(max);

const fields = {
  name: text(200),
  duration_minutes: z.number().int().min(1).max(480),
  price: moneySchema,
  active: z.boolean(),
  aliases: z.array(text(100)).max(20),
};

export const serviceInputSchema = z.object({
  ...fields,
  active: fields.active.default(true),
  aliases: fields.aliases.default([]),
});
export type ServiceInput = z.input<typeof serviceInputSchema>;

// No defaults here: a field left out of a patch keeps its stored value.
export const servicePatchSchema = z.object(fields).partial();
export type ServicePatch = z.input<typeof servicePatchSchema>;

type ServiceRow = {
  id: string;
  name: string;
  duration_minutes: number;
  price_cents: number;
  currency: 'USD';
  active: boolean;
  aliases: string[];
};

const COLUMNS = 'id, name, duration_minutes, price_cents, currency, active, aliases';

function toService(row: ServiceRow): Service {
  return {
    id: row.id,
    name: row.name,
    duration_minutes: row.duration_minutes,
    price: { amount_cents: row.price_cents, currency: row.currency },
    active: row.active,
    aliases: row.aliases,
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || 'service';
  throw new AppError('validation_failed', `${where}: ${issue?.message ?? 'invalid value'}`);
}

// A duplicate active name is the caller's mistake (409), not a server error.
async function withNameConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if ((err as { code?: unknown }).code === '23505') {
      throw new AppError('conflict', 'an active service with that name already exists', { cause: err });
    }
    throw err;
  }
}

export async function listServices(
  db: Queryable,
  tenantId: string,
  options: { activeOnly?: boolean } = {},
): Promise<Service[]> {
  const { rows } = await db.query<ServiceRow>(
    `SELECT ${COLUMNS} FROM catalog_services
     WHERE tenant_id = $1 AND ($2::boolean IS NOT TRUE OR active)
     ORDER BY lower(name), id`,
    [tenantId, options.activeOnly ?? false],
  );
  return rows.map(toService);
}

export async function getService(db: Queryable, tenantId: string, id: string): Promise<Service | null> {
  const { rows } = await db.query<ServiceRow>(
    `SELECT ${COLUMNS} FROM catalog_services WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ? toService(rows[0]) : null;
}

export async function createService(
  db: Queryable,
  tenantId: string,
  input: ServiceInput,
  id: string = randomUUID(),
): Promise<Service> {
  const s = parse(serviceInputSchema, input);
  return withNameConflict(async () => {
    const { rows } = await db.query<ServiceRow>(
      `INSERT INTO catalog_services (tenant_id, id, name, duration_minutes, price_cents, currency, active, aliases)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       RETURNING ${COLUMNS}`,
      [tenantId, id, s.name, s.duration_minutes, s.price.amount_cents, s.price.currency, s.active, s.aliases],
    );
    const row = rows[0];
    if (!row) throw new Error('service insert returned nothing');
    return toService(row);
  });
}

/**
 * Inserts the service unless its id, or an active service of the same name, already exists; for
 * seeding. Returns whether it was created.
 */
export async function ensureService(
  db: Queryable,
  tenantId: string,
  id: string,
  input: ServiceInput,
): Promise<boolean> {
  const s = parse(serviceInputSchema, input);
  const { rowCount } = await db.query(
    `INSERT INTO catalog_services (tenant_id, id, name, duration_minutes, price_cents, currency, active, aliases)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT DO NOTHING`,
    [tenantId, id, s.name, s.duration_minutes, s.price.amount_cents, s.price.currency, s.active, s.aliases],
  );
  return rowCount === 1;
}

/** Applies the fields present in `patch`; null when the service does not exist (for this tenant). */
export async function updateService(
  db: Queryable,
  tenantId: string,
  id: string,
  patch: ServicePatch,
): Promise<Service | null> {
  const p = parse(servicePatchSchema, patch);
  return withNameConflict(async () => {
    const { rows } = await db.query<ServiceRow>(
      `UPDATE catalog_services SET
         name = COALESCE($3, name),
         duration_minutes = COALESCE($4, duration_minutes),
         price_cents = COALESCE($5, price_cents),
         currency = COALESCE($6, currency),
         active = COALESCE($7, active),
         aliases = COALESCE($8, aliases),
         updated_at = now()
       WHERE tenant_id = $1 AND id = $2
       RETURNING ${COLUMNS}`,
      [
        tenantId,
        id,
        p.name ?? null,
        p.duration_minutes ?? null,
        p.price?.amount_cents ?? null,
        p.price?.currency ?? null,
        p.active ?? null,
        p.aliases ?? null,
      ],
    );
    return rows[0] ? toService(rows[0]) : null;
  });
}

export async function deactivateService(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<Service | null> {
  return updateService(db, tenantId, id, { active: false });
}
