// The rules of verifying the forwarding phone during onboarding: a 6-digit code texted to it,
// valid for a short time, a few wrong tries, and a limit on how often our sender texts anyone.
// Pure decisions; the runtime hashes, stores and sends.

export const CODE_DIGITS = 6;
export const CODE_TTL_MS = 10 * 60_000;
export const MAX_WRONG_ATTEMPTS = 5;
/** A new code for the same phone no sooner than this after the last one. */
export const RESEND_COOLDOWN_MS = 30_000;
/** At most this many codes per draft per hour (each is a text from the platform's own number). */
export const MAX_SENDS_PER_HOUR = 5;
const HOUR_MS = 3_600_000;

export type StoredCode = {
  codePhone: string | null;
  codeSentAt: Date | null;
  sendWindowStart: Date | null;
  sendsInWindow: number;
};

export type SendDecision =
  | { kind: 'send'; windowStart: Date; sendsInWindow: number }
  | { kind: 'wait'; retryAfterSeconds: number; reason: string };

export function decideSend(stored: StoredCode, phone: string, now: Date): SendDecision {
  const at = now.getTime();
  if (
    stored.codePhone === phone &&
    stored.codeSentAt &&
    at - stored.codeSentAt.getTime() < RESEND_COOLDOWN_MS
  ) {
    const wait = Math.ceil((stored.codeSentAt.getTime() + RESEND_COOLDOWN_MS - at) / 1000);
    return {
      kind: 'wait',
      retryAfterSeconds: wait,
      reason: 'a code was just sent; wait before asking again',
    };
  }
  const windowOpen = stored.sendWindowStart !== null && at - stored.sendWindowStart.getTime() < HOUR_MS;
  if (windowOpen && stored.sendsInWindow >= MAX_SENDS_PER_HOUR && stored.sendWindowStart) {
    const wait = Math.ceil((stored.sendWindowStart.getTime() + HOUR_MS - at) / 1000);
    return { kind: 'wait', retryAfterSeconds: wait, reason: 'too many codes sent; try again later' };
  }
  return windowOpen && stored.sendWindowStart
    ? { kind: 'send', windowStart: stored.sendWindowStart, sendsInWindow: stored.sendsInWindow + 1 }
    : { kind: 'send', windowStart: now, sendsInWindow: 1 };
}

export type PendingCode = {
  codeHash: string | null;
  codeExpiresAt: Date | null;
  codeAttempts: number;
};

export type CheckOutcome =
  | { kind: 'verified' }
  | { kind: 'wrong'; attemptsLeft: number }
  | { kind: 'no_code' }
  | { kind: 'expired' }
  | { kind: 'locked' };

/** What a submitted code does, given whether it matched the stored hash. */
export function checkCode(pending: PendingCode, matches: boolean, now: Date): CheckOutcome {
  if (pending.codeHash === null || pending.codeExpiresAt === null) return { kind: 'no_code' };
  // Tries are counted before expiry is looked at: guessing an expired code still costs a try.
  if (pending.codeAttempts >= MAX_WRONG_ATTEMPTS) return { kind: 'locked' };
  if (pending.codeExpiresAt.getTime() <= now.getTime()) return { kind: 'expired' };
  if (matches) return { kind: 'verified' };
  return { kind: 'wrong', attemptsLeft: MAX_WRONG_ATTEMPTS - pending.codeAttempts - 1 };
}

export function verificationText(code: string): string {
  return `NeverMissCall: your verification code is ${code}. It expires in ${CODE_TTL_MS / 60_000} minutes. If you did not ask for it, ignore this text.`;
}
