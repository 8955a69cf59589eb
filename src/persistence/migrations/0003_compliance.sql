-- The compliance module (comp_*): 10DLC campaign status per tenant and the opt-out registry.

CREATE TABLE comp_campaigns (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  reason text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);

CREATE TABLE comp_opt_outs (
  tenant_id uuid NOT NULL REFERENCES id_tenants (id) ON DELETE CASCADE,
  phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  source text NOT NULL CHECK (source IN ('keyword', 'provider', 'carrier', 'operator')),
  opted_out_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, phone)
);
