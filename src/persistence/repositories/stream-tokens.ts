import type { Queryable } from '../db.ts';

// The identity module's stream tokens (`id_stream_tokens`): only hashes are stored. Expiry is
// computed by Postgres (`now()`), so every API process agrees on it whatever its own clock says.

/** Stores a new token's hash for the tenant's user; returns when it expires. */
export async function insertStreamToken(
  db: Queryable,
  token: { tenantId: string; userId: string; tokenHash: string; ttlSeconds: number },
): Promise<{ expires_at: Date }> {
  // Expired tokens of this tenant (spent or not) can never open a stream again: drop them here.
  await db.query('DELETE FROM id_stream_tokens WHERE tenant_id = $1 AND expires_at < now()', [
    token.tenantId,
  ]);
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO id_stream_tokens (tenant_id, token_hash, user_id, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))
     RETURNING expires_at`,
    [token.tenantId, token.tokenHash, token.userId, token.ttlSeconds],
  );
  const row = rows[0];
  if (!row) throw new Error('stream token insert returned nothing');
  return row;
}

/**
 * Spends a token: succeeds once, and only before it expires. The tenant and user come from the
 * token's row and from nothing else. Unknown, expired and already used tokens all give null.
 */
export async function consumeStreamToken(
  db: Queryable,
  tokenHash: string,
): Promise<{ tenant_id: string; user_id: string } | null> {
  const { rows } = await db.query<{ tenant_id: string; user_id: string }>(
    `UPDATE id_stream_tokens SET used_at = now()
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
     RETURNING tenant_id, user_id`,
    [tokenHash],
  );
  return rows[0] ?? null;
}
