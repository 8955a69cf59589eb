-- Self-serve onboarding (provisioning module, prov_*): the draft a signed-in owner-to-be fills in
-- before their organisation has a tenant. One draft per identity-provider organisation; its
-- tenant id is chosen up front, so the Stripe customer and Checkout Session made before the tenant
-- exists already name it, and the tenant created on payment is exactly that one.
CREATE TABLE prov_onboarding_drafts (
  auth_org_id text PRIMARY KEY,
  tenant_id uuid NOT NULL UNIQUE,
  started_by text NOT NULL,
  name text,
  slug text,
  time_zone text,
  template text,
  twilio_number text,
  forwarding_phone text,
  phone_verified_at timestamptz,
  -- The verification code is kept only as `salt:sha256(salt:phone:code)`; a code belongs to the
  -- phone it was sent to, expires, and allows a few wrong tries.
  code_hash text,
  code_phone text,
  code_expires_at timestamptz,
  code_attempts integer NOT NULL DEFAULT 0,
  code_sent_at timestamptz,
  -- Texts sent in the current window (one hour from `send_window_start`), against abuse of our sender.
  send_window_start timestamptz,
  sends_in_window integer NOT NULL DEFAULT 0,
  plan text,
  checkout_session_id text,
  checkout_url text,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- A slug is held by one unfinished draft at a time (a tenant's slug is unique in id_tenants).
CREATE UNIQUE INDEX prov_onboarding_drafts_slug ON prov_onboarding_drafts (slug)
  WHERE slug IS NOT NULL AND completed_at IS NULL;
