import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db.ts';

// Operators (`id_users`), created on first sight of their token.

export type TenantRole = 'OWNER' | 'TECH';
export type UserRow = {
  tenant_id: string;
  id: string;
  auth_subject: string;
  email: string | null;
  role: TenantRole;
  active: boolean;
  created_at: Date;
  last_seen_at: Date;
};

const COLUMNS = 'tenant_id, id, auth_subject, email, role, active, created_at, last_seen_at';

/**
 * Creates the user on first sight (with the token's role), else refreshes last_seen_at — at most
 * once a minute, so a read request does not commit a write every time.
 */
export async function upsertUserOnSight(
  db: Queryable,
  user: { tenantId: string; subject: string; email: string | null; role: TenantRole },
): Promise<UserRow> {
  const seen = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM id_users
     WHERE tenant_id = $1 AND auth_subject = $2 AND last_seen_at > now() - interval '1 minute'`,
    [user.tenantId, user.subject],
  );
  if (seen.rows[0]) return seen.rows[0];
  const { rows } = await db.query<UserRow>(
    `INSERT INTO id_users (tenant_id, id, auth_subject, email, role) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, auth_subject) DO UPDATE
       SET last_seen_at = now(), email = COALESCE(EXCLUDED.email, id_users.email)
     RETURNING ${COLUMNS}`,
    [user.tenantId, randomUUID(), user.subject, user.email, user.role],
  );
  const row = rows[0];
  if (!row) throw new Error('user upsert returned nothing');
  return row;
}

export async function listUsers(db: Queryable, tenantId: string): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM id_users WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows;
}

export type UserChange = { role?: TenantRole; active?: boolean };

export type UserChangeResult =
  | { kind: 'updated'; user: UserRow }
  | { kind: 'not_found' }
  | { kind: 'last_owner' };

/**
 * Changes a user's role and/or active flag, refusing to leave the tenant without an active OWNER.
 * Runs inside the caller's transaction: the tenant's active OWNER rows are locked first, so two
 * owners demoting each other at once cannot both succeed (the second re-reads after the first commits).
 */
export async function changeUser(
  db: Queryable,
  tenantId: string,
  id: string,
  change: UserChange,
): Promise<UserChangeResult> {
  const owners = await db.query<{ id: string }>(
    `SELECT id FROM id_users WHERE tenant_id = $1 AND role = 'OWNER' AND active ORDER BY id FOR UPDATE`,
    [tenantId],
  );
  const target = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM id_users WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, id],
  );
  const current = target.rows[0];
  if (!current) return { kind: 'not_found' };
  const role = change.role ?? current.role;
  const active = change.active ?? current.active;
  const removesAnOwner = current.role === 'OWNER' && current.active && (role !== 'OWNER' || !active);
  if (removesAnOwner && owners.rows.every((owner) => owner.id === id)) return { kind: 'last_owner' };
  const { rows } = await db.query<UserRow>(
    `UPDATE id_users SET role = $3, active = $4,
       deactivated_at = CASE WHEN $4 THEN NULL ELSE COALESCE(deactivated_at, now()) END
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, role, active],
  );
  const user = rows[0];
  if (!user) return { kind: 'not_found' };
  return { kind: 'updated', user };
}
