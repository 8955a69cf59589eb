-- The web app's sign-in (a backend-for-frontend): the server keeps the identity provider's tokens
-- and the browser holds only a random session id in an HttpOnly cookie. Only the SHA-256 of a
-- session id or a login state is stored, so a copy of the table opens no session by itself.

-- One row per signed-in browser. `access_token` is the provider's token, verified again on every
-- request exactly like a Bearer token, so a session never outlives its token's expiry.
CREATE TABLE id_web_sessions (
  session_hash text PRIMARY KEY CHECK (session_hash ~ '^[0-9a-f]{64}$'),
  access_token text NOT NULL,
  subject text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX id_web_sessions_expires_at ON id_web_sessions (expires_at);

-- A sign-in in progress: the PKCE verifier and nonce between the redirect to the identity provider
-- and its callback; keyed by the hash of the `state` parameter, spent once, valid ten minutes.
CREATE TABLE id_web_logins (
  state_hash text PRIMARY KEY CHECK (state_hash ~ '^[0-9a-f]{64}$'),
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  return_to text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- What every team inbox has: internal notes on a conversation (stored and shown to the team, never
-- sent to the caller), and the business's saved quick replies. The author's name is kept with the
-- note as it was when written (the conversation module does not read the identity module's tables).
CREATE TABLE conv_notes (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  author_user_id uuid NOT NULL,
  author_name text,
  body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conv_conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conv_notes_conversation ON conv_notes (tenant_id, conversation_id, created_at);

-- A business's quick replies, in the order the owner put them (replaced as a whole).
CREATE TABLE conv_quick_replies (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  position int NOT NULL CHECK (position >= 0 AND position < 50),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 80),
  body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1600),
  PRIMARY KEY (tenant_id, position)
);
