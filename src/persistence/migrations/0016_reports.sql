-- The reporting module's read models, fed only by outbox events (src/runtime/reports). Nothing here
-- is read from another module's tables.
--
-- rep_events: the module's own journal of the events it counts (ids, times, the payload as
-- committed). The primary key makes a redelivered event a no-op; `nmc reports rebuild` recomputes
-- every other rep_* table from it (after copying in any retained outbox event it lacks), so a
-- rebuild never loses history the outbox has already purged.
CREATE TABLE rep_events (
  tenant_id uuid NOT NULL,
  event_id uuid NOT NULL,
  event_name text NOT NULL,
  occurred_at timestamptz NOT NULL,
  payload jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX rep_events_by_time ON rep_events (occurred_at, event_id);

-- One row per conversation: the first instant it reached each step. Merged with least(), so
-- events settle to the same row in any order.
CREATE TABLE rep_conversations (
  tenant_id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  started_at timestamptz,
  missed_at timestamptz,
  texted_at timestamptz,
  replied_at timestamptz,
  quoted_at timestamptz,
  held_at timestamptz,
  taken_over_at timestamptz,
  opted_out_at timestamptz,
  PRIMARY KEY (tenant_id, conversation_id)
);

-- One row per appointment id (a reschedule is a new id naming the one it replaced). `booked_at` is
-- set only by a booking (not by a move), so a chain counts as booked once; the outcome is the one
-- with the latest (outcome_at, outcome_event_id), so a correction wins whatever the arrival order.
CREATE TABLE rep_appointments (
  tenant_id uuid NOT NULL,
  appointment_id uuid NOT NULL,
  conversation_id uuid,
  service_id uuid,
  price_cents bigint,
  start_at timestamptz,
  booked_at timestamptz,
  superseded_at timestamptz,
  cancelled_at timestamptz,
  outcome text CHECK (outcome IN ('completed', 'no_show')),
  outcome_at timestamptz,
  outcome_event_id uuid,
  PRIMARY KEY (tenant_id, appointment_id)
);

-- The daily funnel in the tenant's local days, the sum of every row's contributions above
-- (src/domain/report-contributions.ts). Kept by applying the difference a row's change makes.
CREATE TABLE rep_funnel_daily (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  missed integer NOT NULL DEFAULT 0,
  texted integer NOT NULL DEFAULT 0,
  replied integer NOT NULL DEFAULT 0,
  quoted integer NOT NULL DEFAULT 0,
  held integer NOT NULL DEFAULT 0,
  booked integer NOT NULL DEFAULT 0,
  cancelled integer NOT NULL DEFAULT 0,
  completed integer NOT NULL DEFAULT 0,
  no_show integer NOT NULL DEFAULT 0,
  opted_out integer NOT NULL DEFAULT 0,
  taken_over integer NOT NULL DEFAULT 0,
  takeover_seconds bigint NOT NULL DEFAULT 0,
  revenue_booked_cents bigint NOT NULL DEFAULT 0,
  revenue_kept_cents bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day)
);

-- First-response latency (missed call → our first text accepted by the provider) as a histogram:
-- responses per bucket (upper bound in ms, inclusive; 2147483647 = above the last bound) per local day
-- of the missed call.
CREATE TABLE rep_first_response_daily (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  bucket_ms integer NOT NULL,
  responses integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day, bucket_ms)
);
