-- Users can be deactivated by an OWNER: a deactivated user's next request is refused, whatever
-- token it carries. The row stays (audit logs and messages name it).
ALTER TABLE id_users
  ADD COLUMN active boolean NOT NULL DEFAULT true,
  ADD COLUMN deactivated_at timestamptz;
