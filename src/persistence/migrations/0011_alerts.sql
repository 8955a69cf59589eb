-- Alerts reach people: a team member may give a phone for alert texts, opt in, and set quiet hours
-- (local wall-clock minutes of the day in the tenant's zone; start > end spans midnight). Quiet
-- hours are both set or both unset.
ALTER TABLE id_users
  ADD COLUMN alert_phone text CHECK (alert_phone ~ '^\+[1-9][0-9]{6,14}$'),
  ADD COLUMN alerts_enabled boolean NOT NULL DEFAULT false,
  ADD COLUMN quiet_start_minute smallint CHECK (quiet_start_minute BETWEEN 0 AND 1439),
  ADD COLUMN quiet_end_minute smallint CHECK (quiet_end_minute BETWEEN 0 AND 1439),
  ADD CONSTRAINT id_users_quiet_hours_pair CHECK ((quiet_start_minute IS NULL) = (quiet_end_minute IS NULL)),
  ADD CONSTRAINT id_users_alerts_need_phone CHECK (NOT alerts_enabled OR alert_phone IS NOT NULL);

-- One row per OperatorAttentionNeeded event (source_event_id makes a redelivered event a no-op).
-- Open until someone acknowledges it, in the app or by replying OK to an alert text.
CREATE TABLE conv_alerts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  reason text NOT NULL,
  urgent boolean NOT NULL,
  source_event_id uuid NOT NULL,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged')),
  created_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by text,
  acknowledged_via text CHECK (acknowledged_via IN ('app', 'sms')),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, source_event_id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conv_conversations (tenant_id, id) ON DELETE CASCADE,
  CHECK ((state = 'open') = (acknowledged_at IS NULL))
);
CREATE INDEX conv_alerts_by_state ON conv_alerts (tenant_id, state, created_at DESC, id DESC);

-- The texts an alert causes, one per recipient and round (0 = the first, then reminders). A text
-- is decided when the alert (or its reminder) is processed: queued with the instant it may leave
-- (later than now when held for quiet hours), or skipped with the reason (rate limit, quiet hours).
-- `to_phone` is the person's identity for rate limits and for an OK reply.
CREATE TABLE conv_alert_texts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  alert_id uuid NOT NULL,
  round smallint NOT NULL CHECK (round >= 0),
  user_id uuid,
  to_phone text NOT NULL CHECK (to_phone ~ '^\+[1-9][0-9]{6,14}$'),
  conversation_id uuid NOT NULL,
  urgent boolean NOT NULL,
  body text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'skipped', 'cancelled', 'failed')),
  skip_reason text,
  failure_reason text,
  send_after timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  provider_sid text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, alert_id, round, to_phone),
  FOREIGN KEY (tenant_id, alert_id) REFERENCES conv_alerts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conv_alert_texts_by_phone ON conv_alert_texts (tenant_id, to_phone, send_after DESC);
