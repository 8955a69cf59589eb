-- The web app's sessions keep the identity provider's tokens sealed (AES-256-GCM with the platform
-- keyring, src/domain/token-encryption.ts), bound to their row, and keep the refresh token so the
-- access token is renewed before it expires. A copy of the table opens no session and yields no
-- usable token.
--
-- Rows written before this hold a plaintext access token: those sessions end (their browsers sign
-- in again), so no plaintext token is left behind.
DELETE FROM id_web_sessions;

ALTER TABLE id_web_sessions
  DROP COLUMN access_token,
  -- The key that sealed `tokens` (rotation re-seals under the keyring's current key).
  ADD COLUMN token_key_id text NOT NULL,
  -- The sealed JSON of the access token and, when the provider gave one, the refresh token.
  ADD COLUMN tokens bytea NOT NULL,
  -- When the access token expires; `expires_at` stays the end of the whole session.
  ADD COLUMN access_expires_at timestamptz NOT NULL;
