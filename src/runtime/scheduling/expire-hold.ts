import type { Queryable } from '../../persistence/db.ts';
import { findReservation, releaseHoldIfExpired } from '../../persistence/repositories/scheduling/holds.ts';

// The body of the `hold-expiry` job, which place-hold.ts enqueues for each hold's expires_at. It
// only tidies up and tells: availability already ignores an expired hold, and writers release
// expired overlapping holds themselves, so nothing depends on this job running, or running on time.
// The caller dispatches HoldExpired to the conversation when `released` is true (not done here, so
// this stays a scheduling concern).

/** The payload of a `hold-expiry` job. */
export type HoldExpiryJob = { tenant_id: string; hold_id: string };

export type ExpireHoldResult = {
  /** True when this call released the hold (it was live and past its expires_at). */
  released: boolean;
  /** The hold's conversation, when this call released it and it belongs to one. */
  conversationId: string | null;
  /**
   * Set when the hold is still live and not yet expired at `now` (a job that ran early, e.g. clock
   * skew between hosts): its expires_at, for the worker to run the job again then.
   */
  pendingUntil: string | null;
};

export async function expireHold(
  client: Queryable,
  input: { tenantId: string; holdId: string; now: string },
): Promise<ExpireHoldResult> {
  const released = await releaseHoldIfExpired(client, input.tenantId, input.holdId, input.now);
  if (released !== null)
    return { released: true, conversationId: released.conversation_id, pendingUntil: null };
  // Confirmed, released, unknown, or not yet due: only the last needs anything more.
  const row = await findReservation(client, input.tenantId, input.holdId);
  const pending = row !== null && row.kind === 'hold' && row.status === 'live' ? row.expires_at : null;
  return { released: false, conversationId: null, pendingUntil: pending };
}
