import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db.ts';

// Operators (`id_users`), created on first sight of their token, or invited by an OWNER first: an
// invitation is a row for an email with the role the business chose, its `auth_subject` the
// placeholder `invite:<email>` (no identity provider's subject starts so) until that person's first
// request, which binds the row to their token's subject. The token must still belong to the
// business's organisation (the tenant comes from its org claim), and the effective role stays the
// lesser of the token's and the row's: an invitation can only name the role, never widen access.

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
const INVITE_PREFIX = 'invite:';

/** Whether the row is an invitation nobody has taken up yet. */
export function isPendingInvitation(row: UserRow): boolean {
  return row.auth_subject.startsWith(INVITE_PREFIX);
}

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
  if (user.email) {
    // The first request of someone invited by email takes up the invitation (and its role).
    const invited = await db.query<UserRow>(
      `UPDATE id_users SET auth_subject = $2, last_seen_at = now()
       WHERE tenant_id = $1 AND auth_subject = $3
         AND NOT EXISTS (SELECT 1 FROM id_users WHERE tenant_id = $1 AND auth_subject = $2)
       RETURNING ${COLUMNS}`,
      [user.tenantId, user.subject, `${INVITE_PREFIX}${user.email.toLowerCase()}`],
    );
    if (invited.rows[0]) return invited.rows[0];
  }
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

/** One user of the tenant; another tenant's user id answers like one that does not exist. */
export async function findUser(db: Queryable, tenantId: string, id: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM id_users WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

export type InviteResult = { kind: 'invited'; user: UserRow } | { kind: 'exists' };

/** An invitation for this email with this role, unless a user (or invitation) has that email. */
export async function inviteUser(
  db: Queryable,
  tenantId: string,
  invitation: { email: string; role: TenantRole },
): Promise<InviteResult> {
  const email = invitation.email.toLowerCase();
  const { rows } = await db.query<UserRow>(
    `INSERT INTO id_users (tenant_id, id, auth_subject, email, role)
     SELECT $1, $2, $3, $4, $5
     WHERE NOT EXISTS (SELECT 1 FROM id_users WHERE tenant_id = $1 AND lower(email) = $4)
     ON CONFLICT (tenant_id, auth_subject) DO NOTHING
     RETURNING ${COLUMNS}`,
    [tenantId, randomUUID(), `${INVITE_PREFIX}${email}`, email, invitation.role],
  );
  return rows[0] ? { kind: 'invited', user: rows[0] } : { kind: 'exists' };
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
    // An invitation nobody has taken up manages nothing yet: it is not an owner to fall back on.
    `SELECT id FROM id_users WHERE tenant_id = $1 AND role = 'OWNER' AND active
       AND auth_subject NOT LIKE $2 ORDER BY id FOR UPDATE`,
    [tenantId, `${INVITE_PREFIX}%`],
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
