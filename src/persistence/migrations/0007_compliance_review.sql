-- 10DLC registration lifecycle: what the OWNER submitted, and the review (the provider's, or staff
-- in the sandbox). Status stays in comp_campaigns.status: pending -> approved | rejected.

ALTER TABLE comp_campaigns
  ADD COLUMN submitted_at timestamptz,
  ADD COLUMN reviewed_at timestamptz,
  ADD COLUMN reviewer text,
  ADD COLUMN provider_ref text;

CREATE INDEX comp_campaigns_pending ON comp_campaigns (updated_at) WHERE status = 'pending';
CREATE INDEX comp_opt_outs_opted_out_at ON comp_opt_outs (tenant_id, opted_out_at DESC, phone);
