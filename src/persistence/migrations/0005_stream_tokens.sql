-- Stream tokens (stokens): short-lived, single-use credentials that open one SSE event stream, so
-- no long-lived credential ever travels in a URL. Only the SHA-256 of the token is stored, in the
-- database rather than in process memory, so any API process can validate a token another minted.
-- A token is consumed atomically when its stream opens (used_at); expired and used rows are
-- deleted lazily when the tenant mints again.

CREATE TABLE id_stream_tokens (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  user_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES id_users (tenant_id, id) ON DELETE CASCADE
);
-- A stream is opened by the token alone (no tenant known yet): the lookup is by hash.
CREATE UNIQUE INDEX id_stream_tokens_token_hash ON id_stream_tokens (token_hash);
