// Retry policy (docs/product.md "Work and time"): full jitter, delay = random(0, min(cap, base·2^attempt)),
// at most MAX_ATTEMPTS attempts, then the dead-letter table.
// - `attempt` is the 0-based index of the attempt that just failed: after the first failure the
//   delay is within [0, 1 s], after the fifth within [0, 16 s]. The 30 s cap only matters when the
//   limit from policy_values is raised.
// - The result is whole milliseconds, inclusive of the ceiling.
// - A misbehaving random source is clamped into [0, 1) (NaN counts as 0) so the bound always holds.

export const MAX_ATTEMPTS = 6;

export type BackoffOptions = { baseMs: number; capMs: number };

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 30_000 };

export function backoffCeilingMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError('attempt must be an integer >= 0');
  if (!(opts.baseMs >= 0) || !(opts.capMs >= 0)) throw new RangeError('baseMs and capMs must be >= 0');
  // 2 ** attempt becomes Infinity for huge attempts; min() with the cap keeps it finite.
  return Math.floor(Math.min(opts.capMs, opts.baseMs * 2 ** attempt));
}

export function backoffDelayMs(
  attempt: number,
  random: () => number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const ceiling = backoffCeilingMs(attempt, opts);
  const r = random();
  const unit = Number.isNaN(r) ? 0 : Math.min(Math.max(r, 0), 1 - Number.EPSILON);
  return Math.min(ceiling, Math.floor(unit * (ceiling + 1)));
}

// `attemptsMade` counts every attempt so far, including the one that just failed.
export function shouldDeadLetter(attemptsMade: number, maxAttempts: number = MAX_ATTEMPTS): boolean {
  return attemptsMade >= maxAttempts;
}
