-- Reconciliation's drift report: what a scan found different between our state and a provider's,
-- per tenant, kind (number_webhooks, number_ownership, subscription, campaign; calendar later) and
-- subject (the provider's id). A finding stays open (resolved_at NULL) until a scan no longer sees
-- it; seen again after that, it opens anew with a new first_seen_at.

CREATE TABLE prov_drift (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
  subject text NOT NULL,
  expected jsonb NOT NULL,
  actual jsonb NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  repaired_at timestamptz,
  resolved_at timestamptz,
  PRIMARY KEY (tenant_id, kind, subject)
);
CREATE INDEX prov_drift_open ON prov_drift (last_seen_at DESC) WHERE resolved_at IS NULL;
