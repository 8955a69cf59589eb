-- Calendar connections (the scheduling module): a resource's outside calendar account (Google
-- first), the calendars of it that block the resource's time or receive its bookings, their sync
-- and push-channel state, our bookings written into them, and conflicts found after booking.
--
-- What must stay true:
-- - The refresh token is stored sealed (AES-256-GCM, src/domain/token-encryption.ts) with the id
--   of the key that sealed it; the database alone never yields a usable token.
-- - A push channel's secret token is stored only as its SHA-256: the webhook compares hashes.
-- - Webhooks and OAuth callbacks arrive without a tenant: channel ids and OAuth states are unique
--   on their own (random, 128 bits or more), and every other key starts with tenant_id.

CREATE TABLE sched_calendar_connections (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  resource_id uuid NOT NULL,
  provider text NOT NULL CHECK (provider IN ('google', 'jobber')),
  -- The account's primary calendar id (for Google, the account's email).
  account text NOT NULL,
  token_key_id text NOT NULL,
  token_ciphertext bytea NOT NULL,
  scope text NOT NULL,
  -- 'unauthorized': the provider refused the grant (revoked in the account); the owner reconnects.
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unauthorized')),
  connected_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  -- One connection per resource: connecting again replaces it.
  UNIQUE (tenant_id, resource_id),
  FOREIGN KEY (tenant_id, resource_id) REFERENCES sched_resources (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE sched_calendar_links (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  connection_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  external_id text NOT NULL,
  summary text NOT NULL,
  time_zone text NOT NULL,
  blocks_time boolean NOT NULL DEFAULT false,
  receives_bookings boolean NOT NULL DEFAULT false,
  sync_token text,
  last_full_sync_at timestamptz,
  last_synced_at timestamptz,
  sync_error text,
  channel_id uuid,
  channel_token_hash bytea,
  channel_resource_id text,
  channel_expires_at timestamptz,
  last_push_at timestamptz,
  last_message_number bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, connection_id, external_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES sched_calendar_connections (tenant_id, id) ON DELETE CASCADE,
  CHECK ((channel_id IS NULL) = (channel_token_hash IS NULL))
);
CREATE UNIQUE INDEX sched_calendar_links_channel ON sched_calendar_links (channel_id) WHERE channel_id IS NOT NULL;
-- At most one calendar of a connection receives the bookings.
CREATE UNIQUE INDEX sched_calendar_links_booking ON sched_calendar_links (tenant_id, connection_id)
  WHERE receives_bookings;

-- Mirrored busy blocks now say which calendar they came from, so a calendar's mirror can be
-- cleared and compared on its own (NULL for blocks written before calendars were linked).
ALTER TABLE sched_external_busy ADD COLUMN calendar_id uuid;
ALTER TABLE sched_external_busy
  ADD CONSTRAINT sched_external_busy_calendar FOREIGN KEY (tenant_id, calendar_id)
  REFERENCES sched_calendar_links (tenant_id, id) ON DELETE CASCADE;
CREATE INDEX sched_external_busy_by_calendar ON sched_external_busy (tenant_id, calendar_id)
  WHERE calendar_id IS NOT NULL;

-- A consent in progress: the state sent to the provider (kept as its SHA-256) and the PKCE code
-- verifier (sealed), single use, for ten minutes.
CREATE TABLE sched_calendar_oauth_states (
  tenant_id uuid NOT NULL,
  state_hash bytea NOT NULL,
  resource_id uuid NOT NULL,
  verifier_key_id text NOT NULL,
  verifier_ciphertext bytea NOT NULL,
  actor text,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, state_hash),
  FOREIGN KEY (tenant_id, resource_id) REFERENCES sched_resources (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sched_calendar_oauth_states_state ON sched_calendar_oauth_states (state_hash);

-- Our appointment as an event in the booking calendar (write-back). A reschedule moves the row
-- to the new appointment's id and patches the same event.
CREATE TABLE sched_calendar_events (
  tenant_id uuid NOT NULL,
  appointment_id uuid NOT NULL,
  calendar_id uuid NOT NULL,
  external_event_id text,
  state text NOT NULL CHECK (state IN ('written', 'deleted')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, appointment_id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES sched_calendar_links (tenant_id, id) ON DELETE CASCADE
);

-- A busy block that arrived after a booking and overlaps it: nothing is cancelled; a person
-- decides. Both times are kept as they were when found.
CREATE TABLE sched_calendar_conflicts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  appointment_id uuid NOT NULL,
  calendar_id uuid NOT NULL,
  busy_external_id text NOT NULL,
  appointment_start timestamptz NOT NULL,
  appointment_end timestamptz NOT NULL,
  busy_start timestamptz NOT NULL,
  busy_end timestamptz NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, appointment_id, busy_external_id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES sched_calendar_links (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sched_calendar_conflicts_recent ON sched_calendar_conflicts (tenant_id, detected_at DESC, id);
