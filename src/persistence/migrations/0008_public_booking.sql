-- Public booking with a real customer. A hold placed through /api/public/:slug carries the customer
-- (name, E.164 phone), kept on the reservation row so the appointment it becomes says who booked.
-- The 6-digit code texted to that phone is stored only as a hash, beside the count of wrong tries;
-- the row goes with its hold.

ALTER TABLE sched_reservations
  ADD COLUMN customer_name text CHECK (length(btrim(customer_name)) BETWEEN 1 AND 100),
  ADD COLUMN customer_phone text CHECK (customer_phone ~ '^\+[1-9][0-9]{6,14}$'),
  ADD CONSTRAINT sched_reservations_customer CHECK ((customer_name IS NULL) = (customer_phone IS NULL));

-- The live public holds of one phone, counted before each new one (at most a few per tenant).
CREATE INDEX sched_reservations_customer_holds ON sched_reservations (tenant_id, customer_phone)
  WHERE kind = 'hold' AND status = 'live' AND customer_phone IS NOT NULL;

CREATE TABLE sched_booking_codes (
  tenant_id uuid NOT NULL,
  hold_id uuid NOT NULL,
  -- sha256 over the hold id and the code (hex): the code itself is never stored.
  code_hash text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$'),
  failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, hold_id),
  FOREIGN KEY (tenant_id, hold_id) REFERENCES sched_reservations (tenant_id, id) ON DELETE CASCADE
);
