-- Shared infrastructure and the identity module. Every tenant-owned table has tenant_id as the
-- first column of its primary key or of a unique key, so the schema stays shardable by tenant.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE id_tenants (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  time_zone text NOT NULL,
  auth_org_id text UNIQUE,
  twilio_number text UNIQUE CHECK (twilio_number ~ '^\+[1-9][0-9]{6,14}$'),
  forwarding_phone text CHECK (forwarding_phone ~ '^\+[1-9][0-9]{6,14}$'),
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE id_users (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  auth_subject text NOT NULL,
  email text,
  display_name text,
  role text NOT NULL CHECK (role IN ('OWNER', 'TECH')),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, auth_subject)
);

-- Provider callbacks already applied, keyed by the provider's own identity (e.g. MessageSid +
-- status). Claimed with INSERT … ON CONFLICT DO NOTHING inside the effect's transaction.
CREATE TABLE webhook_events (
  provider text NOT NULL,
  event_key text NOT NULL,
  tenant_id uuid,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_key)
);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);

CREATE TABLE idempotency_keys (
  tenant_id uuid NOT NULL,
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'done')),
  response_status integer,
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, scope, key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

CREATE TABLE audit_logs (
  tenant_id uuid,
  id bigint GENERATED ALWAYS AS IDENTITY,
  actor text NOT NULL,
  role text NOT NULL,
  action text NOT NULL,
  target text,
  result text NOT NULL,
  correlation_id text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX audit_logs_tenant_at ON audit_logs (tenant_id, at DESC);

-- Business constants: a NULL tenant_id row is the platform default, a tenant row overrides it.
CREATE TABLE policy_values (
  tenant_id uuid,
  key text NOT NULL,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (tenant_id, key)
);

-- The transactional outbox: written only by the runtime, in the same transaction as the change.
CREATE TABLE outbox_events (
  tenant_id uuid NOT NULL,
  event_id uuid NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  event_name text NOT NULL,
  schema_version integer NOT NULL,
  occurred_at timestamptz NOT NULL,
  correlation_id text NOT NULL,
  causation_id text,
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  dispatched_at timestamptz,
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX outbox_events_pending ON outbox_events (next_attempt_at, seq) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_events_tenant_seq ON outbox_events (tenant_id, seq);
CREATE INDEX outbox_events_dispatched_at ON outbox_events (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- Which subscriber has consumed which event: handlers are idempotent by event_id.
CREATE TABLE outbox_consumptions (
  tenant_id uuid NOT NULL,
  event_id uuid NOT NULL,
  subscriber text NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id, subscriber)
);

CREATE TABLE outbox_dead_letters (
  tenant_id uuid NOT NULL,
  event_id uuid NOT NULL,
  event_name text NOT NULL,
  schema_version integer NOT NULL,
  occurred_at timestamptz NOT NULL,
  correlation_id text NOT NULL,
  causation_id text,
  payload jsonb NOT NULL,
  attempts integer NOT NULL,
  last_error text NOT NULL,
  dead_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
