-- The catalog module (catalog_*) and the scheduling module (sched_*): Service Items, Resources with
-- their weekly hours and dated exceptions, mirrored external busy blocks, and reservations.
--
-- The scheduling guarantee lives here: holds and appointments share ONE table, and a gist exclusion
-- constraint over the live rows of a resource makes a double booking impossible, whatever the code
-- above it does. A hold becomes an appointment by an UPDATE of its row (it stays live throughout),
-- so the slot is never released in between. An expired hold that is still 'live' does block its
-- slot in this table; writers release expired overlapping holds (in their own transaction) before
-- they insert, and readers ignore them (expires_at <= now), so nothing depends on the expiry job.

CREATE TABLE catalog_services (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 480),
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  currency text NOT NULL DEFAULT 'USD' CHECK (currency = 'USD'),
  active boolean NOT NULL DEFAULT true,
  aliases text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- Two active services with one name would make catalog matching ambiguous by construction.
CREATE UNIQUE INDEX catalog_services_active_name ON catalog_services (tenant_id, lower(btrim(name))) WHERE active;

CREATE TABLE sched_resources (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  time_zone text NOT NULL,
  calendar_kind text NOT NULL CHECK (calendar_kind IN ('internal', 'google', 'jobber')),
  -- ISO weekday '1' (Monday) .. '7' → [{ "start": "08:00", "end": "17:00" }], local wall-clock times.
  weekly_hours jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(weekly_hours) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

-- A dated exception replaces that date's weekly hours; an empty list closes the day.
CREATE TABLE sched_exceptions (
  tenant_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  date date NOT NULL,
  intervals jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(intervals) = 'array'),
  PRIMARY KEY (tenant_id, resource_id, date),
  FOREIGN KEY (tenant_id, resource_id) REFERENCES sched_resources (tenant_id, id) ON DELETE CASCADE
);

-- Busy blocks mirrored from Google/Jobber (the shadow), used by availability only.
CREATE TABLE sched_external_busy (
  tenant_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  id uuid NOT NULL,
  timeslot tstzrange NOT NULL CHECK (NOT isempty(timeslot) AND NOT lower_inf(timeslot) AND NOT upper_inf(timeslot)),
  source text NOT NULL CHECK (source IN ('google', 'jobber')),
  external_id text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, resource_id, source, external_id),
  FOREIGN KEY (tenant_id, resource_id) REFERENCES sched_resources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sched_external_busy_lookup ON sched_external_busy USING gist (tenant_id, resource_id, timeslot);

-- Holds and appointments. A hold is live until it is confirmed (kind becomes 'appointment' in the
-- same row), released (explicitly, or because it expired), and an appointment until it is cancelled.
-- service_id names a catalog Service Item; it is checked by the runtime rather than by a foreign key,
-- so the scheduling module does not depend on the catalog's tables.
CREATE TABLE sched_reservations (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  resource_id uuid NOT NULL,
  service_id uuid NOT NULL,
  conversation_id uuid,
  kind text NOT NULL CHECK (kind IN ('hold', 'appointment')),
  status text NOT NULL CHECK (status IN ('live', 'released', 'cancelled')),
  timeslot tstzrange NOT NULL
    CHECK (NOT isempty(timeslot) AND lower_inc(timeslot) AND NOT upper_inc(timeslot)
           AND NOT lower_inf(timeslot) AND NOT upper_inf(timeslot)),
  expires_at timestamptz,
  -- Why a hold was released: 'expired' (its TTL passed) or 'released' (someone let it go).
  release_reason text CHECK (release_reason IN ('expired', 'released')),
  created_at timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz,
  released_at timestamptz,
  cancelled_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, resource_id) REFERENCES sched_resources (tenant_id, id),
  CONSTRAINT sched_reservations_hold_expiry CHECK ((kind = 'hold') = (expires_at IS NOT NULL)),
  CONSTRAINT sched_reservations_confirmed CHECK ((kind = 'appointment') = (confirmed_at IS NOT NULL)),
  CONSTRAINT sched_reservations_released CHECK (
    (status = 'released') = (kind = 'hold' AND release_reason IS NOT NULL AND released_at IS NOT NULL)
    AND (status = 'released' OR (release_reason IS NULL AND released_at IS NULL))
  ),
  CONSTRAINT sched_reservations_cancelled CHECK (
    (status = 'cancelled') = (kind = 'appointment' AND cancelled_at IS NOT NULL)
    AND (status = 'cancelled' OR cancelled_at IS NULL)
  ),
  -- The scheduling guarantee. Its gist index also serves availability lookups of live rows.
  CONSTRAINT no_double_booking EXCLUDE USING gist (tenant_id WITH =, resource_id WITH =, timeslot WITH &&)
    WHERE (status = 'live')
);
-- Appointment listings by start time (keyset on start, id), live or cancelled.
CREATE INDEX sched_reservations_by_start ON sched_reservations (tenant_id, kind, lower(timeslot), id);
CREATE INDEX sched_reservations_conversation ON sched_reservations (tenant_id, conversation_id)
  WHERE conversation_id IS NOT NULL;
-- Live holds past their TTL, for a sweep that tells conversations their hold is gone.
CREATE INDEX sched_reservations_live_holds ON sched_reservations (expires_at)
  WHERE kind = 'hold' AND status = 'live';
