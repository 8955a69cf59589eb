-- What became of an appointment once its time came: the customer was served ('completed') or did
-- not come ('no_show'). Marked by an operator on a live appointment; the row stays live (its slot
-- stays taken: a past slot cannot be booked anyway), and a cancelled appointment has no outcome.
-- Marking again replaces the outcome (an operator's mistake is corrected, not locked in).

ALTER TABLE sched_reservations
  ADD COLUMN outcome text CHECK (outcome IN ('completed', 'no_show')),
  ADD COLUMN outcome_at timestamptz,
  ADD CONSTRAINT sched_reservations_outcome CHECK (
    (outcome IS NULL) = (outcome_at IS NULL)
    AND (outcome IS NULL OR (kind = 'appointment' AND status = 'live'))
  );
