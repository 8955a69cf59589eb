-- Jobber as the second calendar provider (the connections table already allows it).
--
-- - A consent in progress remembers which provider it is for: the callback is shared, and the
--   code it brings is exchanged with that provider only.
-- - Jobber's webhooks are app-level and carry no channel: a delivery is deduped per calendar by
--   the SHA-256 of (topic, item id, occurredAt) — Jobber delivers at least once, and redelivers
--   the same payload. Receipts older than a week are purged by the calendar sweep.

ALTER TABLE sched_calendar_oauth_states
  ADD COLUMN provider text NOT NULL DEFAULT 'google' CHECK (provider IN ('google', 'jobber'));

CREATE TABLE sched_jobber_webhook_receipts (
  tenant_id uuid NOT NULL,
  calendar_id uuid NOT NULL,
  delivery_hash bytea NOT NULL,
  topic text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, calendar_id, delivery_hash),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES sched_calendar_links (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sched_jobber_webhook_receipts_age ON sched_jobber_webhook_receipts (received_at);

-- Webhooks arrive without a tenant: the Jobber account id (a connection's `account`) finds them.
CREATE INDEX sched_calendar_connections_jobber_account ON sched_calendar_connections (account)
  WHERE provider = 'jobber';
