import type { Queryable } from '../db.ts';

// The identity module's web sessions and sign-ins in progress (`id_web_sessions`,
// `id_web_logins`): only hashes of the browser's secrets are stored. Expiry is computed by
// Postgres, so every API process agrees on it.

/** A session's row: its tokens still sealed (src/http/web/web-session-store.ts opens them). */
export type WebSession = {
  subject: string;
  token_key_id: string;
  tokens: Buffer;
  access_expires_at: Date;
  expires_at: Date;
};

const COLUMNS = 'subject, token_key_id, tokens, access_expires_at, expires_at';

export async function insertWebSession(
  db: Queryable,
  session: {
    sessionHash: string;
    subject: string;
    tokenKeyId: string;
    tokens: Buffer;
    accessExpiresAt: Date;
    expiresAt: Date;
  },
): Promise<void> {
  // Expired sessions can never authenticate again: drop a few on each sign-in.
  await db.query(
    `DELETE FROM id_web_sessions WHERE session_hash IN (
       SELECT session_hash FROM id_web_sessions WHERE expires_at < now() LIMIT 100)`,
  );
  await db.query(
    `INSERT INTO id_web_sessions (session_hash, subject, token_key_id, tokens, access_expires_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      session.sessionHash,
      session.subject,
      session.tokenKeyId,
      session.tokens,
      session.accessExpiresAt,
      session.expiresAt,
    ],
  );
}

/** The live session with this hash, or null (unknown or expired). */
export async function findWebSession(db: Queryable, sessionHash: string): Promise<WebSession | null> {
  const { rows } = await db.query<WebSession>(
    `UPDATE id_web_sessions SET last_seen_at = now()
     WHERE session_hash = $1 AND expires_at > now()
     RETURNING ${COLUMNS}`,
    [sessionHash],
  );
  return rows[0] ?? null;
}

/**
 * The live session, locked until the caller's transaction ends: one refresh at a time per session
 * across every API process (a second request waiting here then finds the token already renewed).
 */
export async function lockWebSession(db: Queryable, sessionHash: string): Promise<WebSession | null> {
  const { rows } = await db.query<WebSession>(
    `SELECT ${COLUMNS} FROM id_web_sessions WHERE session_hash = $1 AND expires_at > now() FOR UPDATE`,
    [sessionHash],
  );
  return rows[0] ?? null;
}

export async function updateWebSessionTokens(
  db: Queryable,
  sessionHash: string,
  tokens: { tokenKeyId: string; tokens: Buffer; accessExpiresAt: Date },
): Promise<void> {
  await db.query(
    `UPDATE id_web_sessions SET token_key_id = $2, tokens = $3, access_expires_at = $4
     WHERE session_hash = $1`,
    [sessionHash, tokens.tokenKeyId, tokens.tokens, tokens.accessExpiresAt],
  );
}

export async function deleteWebSession(db: Queryable, sessionHash: string): Promise<void> {
  await db.query('DELETE FROM id_web_sessions WHERE session_hash = $1', [sessionHash]);
}

export async function insertWebLogin(
  db: Queryable,
  login: { stateHash: string; codeVerifier: string; nonce: string; returnTo: string; ttlSeconds: number },
): Promise<void> {
  await db.query('DELETE FROM id_web_logins WHERE expires_at < now()');
  await db.query(
    `INSERT INTO id_web_logins (state_hash, code_verifier, nonce, return_to, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [login.stateHash, login.codeVerifier, login.nonce, login.returnTo, login.ttlSeconds],
  );
}

/** Spends a sign-in in progress: once, before it expires; otherwise null. */
export async function consumeWebLogin(
  db: Queryable,
  stateHash: string,
): Promise<{ code_verifier: string; nonce: string; return_to: string } | null> {
  const { rows } = await db.query<{ code_verifier: string; nonce: string; return_to: string }>(
    `DELETE FROM id_web_logins WHERE state_hash = $1 AND expires_at > now()
     RETURNING code_verifier, nonce, return_to`,
    [stateHash],
  );
  return rows[0] ?? null;
}
