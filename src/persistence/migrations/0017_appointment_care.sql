-- Appointment care: reminders, outcomes that mark themselves, and the customer's own page.

-- A booking survives a reschedule: the moved appointment (a new row) names the booking it continues,
-- the first appointment's id (NULL: the row is its own booking). The customer's link names the
-- booking, so it keeps working after a move.
ALTER TABLE sched_reservations ADD COLUMN booking_id uuid;
CREATE INDEX sched_reservations_booking ON sched_reservations (tenant_id, (COALESCE(booking_id, id)))
  WHERE kind = 'appointment';

-- The sweep that completes appointments nobody marked finds them by their end.
CREATE INDEX sched_reservations_unmarked ON sched_reservations (upper(timeslot))
  WHERE kind = 'appointment' AND status = 'live' AND outcome IS NULL;

-- The short code in a customer's link (/p/<code>): one per booking and phone, until it expires. It
-- is exchanged for a signed, short-lived portal token scoped to that booking (src/runtime/portal).
CREATE TABLE sched_portal_links (
  code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9]{10,32}$'),
  tenant_id uuid NOT NULL,
  booking_id uuid NOT NULL,
  phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  UNIQUE (tenant_id, booking_id, phone)
);
