import { AppError } from '../../domain/errors.ts';
import { type Keyring, KeyringError, open, seal } from '../../domain/token-encryption.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import {
  deleteWebSession,
  findWebSession,
  insertWebSession,
  lockWebSession,
  updateWebSessionTokens,
  type WebSession,
} from '../../persistence/repositories/web-sessions.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { type GrantedTokens, type OidcClient, RefreshRefused } from './oidc-client.ts';

// The backend-for-frontend's token store. The identity provider's tokens are sealed at rest with the
// platform keyring (AES-256-GCM, src/domain/token-encryption.ts, the same keyring as the calendar
// tokens), bound to their session row: the database alone, or a sealed value copied onto another
// row, yields no usable token. The access token is renewed with the refresh token shortly before it
// expires, one refresh per session at a time across every API process (a row lock); a refused
// refresh ends the session, and the browser is simply signed out (401).

/** Renew this long before the access token expires, so no request carries a token that dies in flight. */
const REFRESH_AHEAD_MS = 60_000;
/** A session with a refresh token lasts this long from sign-in; without one, as long as its access token. */
export const SESSION_SECONDS = 7 * 24 * 3600;

type Tokens = { access_token: string; refresh_token: string | null };

export type WebSessionStore = {
  /** Keeps a new session's tokens; returns when the session ends (the cookie's expiry). */
  create(session: {
    sessionHash: string;
    subject: string;
    tokens: GrantedTokens;
    accessExpiresAt: Date;
  }): Promise<Date>;
  /** The live session's access token, renewed first when it is about to expire; null: signed out. */
  accessToken(sessionHash: string): Promise<string | null>;
  /** Ends the session (sign-out) and withdraws its refresh token at the provider. */
  end(sessionHash: string): Promise<void>;
};

export function createWebSessionStore(deps: {
  db: Pool;
  keyring: Keyring;
  oidc: OidcClient | null;
  verify: TokenVerifier;
}): WebSessionStore {
  const binding = (sessionHash: string) => `web-session|${sessionHash}`;
  const sealTokens = (sessionHash: string, tokens: Tokens) =>
    seal(deps.keyring, JSON.stringify(tokens), binding(sessionHash));
  const openTokens = (sessionHash: string, row: WebSession): Tokens | null => {
    try {
      return JSON.parse(
        open(deps.keyring, { keyId: row.token_key_id, ciphertext: row.tokens }, binding(sessionHash)),
      ) as Tokens;
    } catch (err) {
      // Its key left the keyring (or the bytes were altered): that browser signs in again.
      if (err instanceof KeyringError) return null;
      throw err;
    }
  };
  const fresh = (row: WebSession) => row.access_expires_at.getTime() - Date.now() > REFRESH_AHEAD_MS;
  const expired = (row: WebSession) => row.access_expires_at.getTime() <= Date.now();

  async function renew(sessionHash: string): Promise<string | null> {
    const oidc = deps.oidc;
    return inTransaction(deps.db, async (client) => {
      const row = await lockWebSession(client, sessionHash);
      if (!row) return null;
      const tokens = openTokens(sessionHash, row);
      if (!tokens) return null;
      // Another request renewed it while this one waited for the lock.
      if (fresh(row) || !tokens.refresh_token || !oidc) return expired(row) ? null : tokens.access_token;
      let granted: GrantedTokens;
      let accessExpiresAt: Date;
      try {
        granted = await oidc.refresh(tokens.refresh_token);
        const claims = await deps.verify(granted.accessToken);
        accessExpiresAt = new Date((claims.exp ?? 0) * 1000);
      } catch (err) {
        // Refused, or the new token is not one the API accepts: this session is over.
        if (err instanceof RefreshRefused || (err instanceof AppError && err.code === 'unauthorized')) {
          await deleteWebSession(client, sessionHash);
          return null;
        }
        // The provider is unreachable: keep the session, use the token while it still lives.
        return expired(row) ? null : tokens.access_token;
      }
      const sealed = sealTokens(sessionHash, {
        access_token: granted.accessToken,
        // A provider that does not rotate refresh tokens answers without one: keep the old.
        refresh_token: granted.refreshToken ?? tokens.refresh_token,
      });
      await updateWebSessionTokens(client, sessionHash, {
        tokenKeyId: sealed.keyId,
        tokens: sealed.ciphertext,
        accessExpiresAt,
      });
      return granted.accessToken;
    });
  }

  return {
    async create({ sessionHash, subject, tokens, accessExpiresAt }) {
      const expiresAt = tokens.refreshToken ? new Date(Date.now() + SESSION_SECONDS * 1000) : accessExpiresAt;
      const sealed = sealTokens(sessionHash, {
        access_token: tokens.accessToken,
        refresh_token: tokens.refreshToken,
      });
      await insertWebSession(deps.db, {
        sessionHash,
        subject,
        tokenKeyId: sealed.keyId,
        tokens: sealed.ciphertext,
        accessExpiresAt,
        expiresAt,
      });
      return expiresAt;
    },
    async accessToken(sessionHash) {
      const row = await findWebSession(deps.db, sessionHash);
      if (!row) return null;
      const tokens = openTokens(sessionHash, row);
      if (!tokens) return null;
      if (fresh(row)) return tokens.access_token;
      return renew(sessionHash);
    },
    async end(sessionHash) {
      const row = await findWebSession(deps.db, sessionHash);
      await deleteWebSession(deps.db, sessionHash);
      const refreshToken = row ? openTokens(sessionHash, row)?.refresh_token : null;
      // The session is already over here; a provider that cannot be reached keeps a token that no
      // row holds any more.
      if (refreshToken && deps.oidc) await deps.oidc.revoke(refreshToken).catch(() => undefined);
    },
  };
}
