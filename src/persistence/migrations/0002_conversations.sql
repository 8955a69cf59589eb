-- The conversation module (conv_*): one row per conversation actor, its messages and calls, and
-- the idempotency record of applied events.

CREATE TABLE conv_conversations (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  caller text NOT NULL CHECK (caller ~ '^\+[1-9][0-9]{6,14}$'),
  state text NOT NULL CHECK (state IN ('open', 'human', 'closed', 'blocked')),
  assigned_to text,
  snapshot jsonb NOT NULL,
  snapshot_schema_version integer NOT NULL,
  version bigint NOT NULL DEFAULT 0,
  -- Set when the stored snapshot could not be revived; operators still see and can close it.
  flagged text,
  last_message_at timestamptz,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
-- One non-closed conversation per tenant and caller.
CREATE UNIQUE INDEX conv_conversations_one_active ON conv_conversations (tenant_id, caller) WHERE state <> 'closed';
-- The operator inbox: newest activity first, keyset by (last_activity_at, id).
CREATE INDEX conv_conversations_inbox ON conv_conversations (tenant_id, last_activity_at DESC, id DESC);
CREATE INDEX conv_conversations_caller ON conv_conversations (tenant_id, caller);

CREATE TABLE conv_messages (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  participant text NOT NULL CHECK (participant IN ('caller', 'assistant', 'operator', 'system')),
  operator_id text,
  purpose text,
  body text NOT NULL,
  media jsonb NOT NULL DEFAULT '[]'::jsonb,
  status text NOT NULL CHECK (status IN ('received', 'queued', 'sending', 'sent', 'delivered', 'failed')),
  provider_sid text,
  error_code text,
  failure_reason text,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conv_conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conv_messages_conversation ON conv_messages (tenant_id, conversation_id, created_at, id);
CREATE UNIQUE INDEX conv_messages_provider_sid ON conv_messages (provider_sid) WHERE provider_sid IS NOT NULL;
CREATE INDEX conv_messages_created_at ON conv_messages (created_at);

CREATE TABLE conv_calls (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  conversation_id uuid,
  call_sid text NOT NULL,
  caller text NOT NULL,
  dial_status text,
  duration_seconds integer,
  answered_by text,
  missed boolean NOT NULL DEFAULT false,
  texted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, call_sid)
);
CREATE INDEX conv_calls_created_at ON conv_calls (created_at);

-- Events applied with an idempotency key: a replay returns the stored first result.
CREATE TABLE conv_applied_events (
  tenant_id uuid NOT NULL,
  idempotency_key text NOT NULL,
  conversation_id uuid NOT NULL,
  version bigint NOT NULL,
  result jsonb NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX conv_applied_events_applied_at ON conv_applied_events (applied_at);
