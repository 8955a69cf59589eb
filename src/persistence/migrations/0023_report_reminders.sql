-- The funnel's `reminded` column: appointments that got at least one reminder text
-- (nmc.conversation.ReminderSent), counted once per appointment on the local day of the first.
-- Days before this migration read 0 until `nmc reports rebuild` folds in the reminders the outbox
-- still retains (30 days).
ALTER TABLE rep_appointments ADD COLUMN reminded_at timestamptz;
ALTER TABLE rep_funnel_daily ADD COLUMN reminded integer NOT NULL DEFAULT 0;
