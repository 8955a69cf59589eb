import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import {
  CODE_DIGITS,
  CODE_TTL_MS,
  checkCode,
  decideSend,
  MAX_WRONG_ATTEMPTS,
  verificationText,
} from '../../domain/onboarding/phone-verification.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import {
  countWrongAttempt,
  findDraft,
  markPhoneVerified,
  storeCode,
} from '../../persistence/repositories/onboarding.ts';
import { classifyTwilioError, type TwilioClient } from '../../providers/twilio/client.ts';
import type { Onboarder } from './onboarder.ts';

// Verifies the forwarding phone: a 6-digit code texted to it from the platform's own number (a
// platform transactional text: the business has no tenant, number or campaign yet), stored only as
// a salted hash, valid 10 minutes, 5 wrong tries. The text is sent while the draft row is locked
// and the code is committed only if Twilio accepted it, so a failed send leaves the previous
// state (and its cooldown) untouched.

export type VerificationDeps = { db: Pool; twilio: TwilioClient; from: string | undefined; now?: () => Date };

function hashCode(salt: string, phone: string, code: string): string {
  return createHash('sha256').update(`${salt}:${phone}:${code}`).digest('hex');
}

function matches(stored: string, phone: string, code: string): boolean {
  const [salt, expected] = stored.split(':');
  if (!salt || !expected) return false;
  const given = Buffer.from(hashCode(salt, phone, code), 'hex');
  const want = Buffer.from(expected, 'hex');
  return given.length === want.length && timingSafeEqual(given, want);
}

function newCode(): string {
  return String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

export async function sendVerificationCode(
  deps: VerificationDeps,
  who: Onboarder,
  phone: string,
): Promise<{ phone: string; expiresAt: Date }> {
  const from = deps.from;
  if (!from) throw new AppError('unavailable', 'phone verification is not configured (no platform sender)');
  const now = deps.now?.() ?? new Date();
  return inTransaction(deps.db, async (client) => {
    const draft = await findDraft(client, who.authOrgId, true);
    if (!draft) throw new AppError('conflict', 'start the onboarding draft first');
    if (draft.checkoutSessionId || draft.completedAt)
      throw new AppError('conflict', 'checkout has started; the forwarding phone can no longer change');
    const decision = decideSend(draft, phone, now);
    if (decision.kind === 'wait') {
      throw new AppError('rate_limited', decision.reason, {
        headers: { 'retry-after': String(decision.retryAfterSeconds) },
      });
    }
    const code = newCode();
    const salt = randomBytes(16).toString('hex');
    const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
    await storeCode(client, who.authOrgId, {
      phone,
      hash: `${salt}:${hashCode(salt, phone, code)}`,
      expiresAt,
      sentAt: now,
      windowStart: decision.windowStart,
      sendsInWindow: decision.sendsInWindow,
    });
    try {
      await deps.twilio.messages.create({ to: phone, from, body: verificationText(code) });
    } catch (err) {
      const failure = classifyTwilioError(err);
      if (failure.kind === 'retryable')
        throw new AppError('unavailable', 'the code could not be sent; try again', { cause: err });
      throw new AppError('validation_failed', 'this phone cannot receive texts', { cause: err });
    }
    return { phone, expiresAt };
  });
}

export type ConfirmResult = { verifiedAt: Date };

export async function confirmVerificationCode(
  deps: Pick<VerificationDeps, 'db' | 'now'>,
  who: Onboarder,
  code: string,
): Promise<ConfirmResult> {
  const now = deps.now?.() ?? new Date();
  const outcome = await inTransaction(deps.db, async (client) => {
    const draft = await findDraft(client, who.authOrgId, true);
    if (!draft) return { kind: 'no_code' as const };
    const ok =
      draft.codeHash !== null && draft.codePhone !== null && matches(draft.codeHash, draft.codePhone, code);
    const result = checkCode(draft, ok, now);
    // The wrong try is committed even though the request then fails.
    if (result.kind === 'wrong') await countWrongAttempt(client, who.authOrgId);
    if (result.kind === 'verified') await markPhoneVerified(client, who.authOrgId, now);
    return result;
  });
  switch (outcome.kind) {
    case 'verified':
      return { verifiedAt: now };
    case 'no_code':
      throw new AppError('conflict', 'no code was sent; ask for one first');
    case 'expired':
      throw new AppError('gone', 'the code has expired; ask for a new one');
    case 'locked':
      throw new AppError('rate_limited', `${MAX_WRONG_ATTEMPTS} wrong codes; ask for a new one`);
    case 'wrong':
      throw new AppError(
        'unprocessable',
        `the code is wrong (${outcome.attemptsLeft} ${outcome.attemptsLeft === 1 ? 'try' : 'tries'} left)`,
      );
  }
}
