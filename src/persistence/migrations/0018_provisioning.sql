-- The provisioning module (prov_*): what a tenant should be (a versioned desired state), what each
-- convergence step last did (its observed state), and the data export offered before a closed
-- tenant's data is deleted. Convergence is described in src/domain/provisioning/plan.ts.

-- A closed tenant sends nothing (its gates are closed, src/runtime/billing-gates.ts); its data is
-- deleted once the retention period after closed_at has passed.
ALTER TABLE id_tenants ADD COLUMN closed_at timestamptz;

-- Every version of the desired state is kept: the latest one is what convergence drives toward, the
-- older ones say who asked for what and when.
CREATE TABLE prov_desired_states (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version >= 1),
  spec jsonb NOT NULL,
  requested_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  converged_at timestamptz,
  PRIMARY KEY (tenant_id, version)
);

-- One row per tenant and step. `fingerprint` is the canonical input the step last completed (or
-- failed) with: a step is done only while its fingerprint equals the one the latest desired state
-- asks for. `row_version` is the compare-and-set token: a runner claims a step only by moving it
-- from the version it planned on, so a retry or a second runner never runs a step twice at once;
-- `lease_until` lets a step whose runner died be claimed again.
CREATE TABLE prov_steps (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  step text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'running', 'done', 'waiting', 'failed')),
  fingerprint text,
  desired_version integer NOT NULL,
  outputs jsonb NOT NULL DEFAULT '{}'::jsonb,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at timestamptz,
  lease_until timestamptz,
  row_version integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, step)
);
CREATE INDEX prov_steps_failed ON prov_steps (updated_at) WHERE status = 'failed';

-- The archive of a closing tenant's data, offered to its owner before anything is deleted.
CREATE TABLE prov_exports (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  archive jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
