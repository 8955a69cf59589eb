import { randomInt, randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { bookingCodeMatches, hashBookingCode } from '../domain/booking-code.ts';
import { AppError } from '../domain/errors.ts';
import { inTransaction, type Pool } from '../persistence/db.ts';
import { loadPolicy } from '../persistence/repositories/policy-values.ts';
import {
  insertBookingCode,
  liveCustomerHolds,
  lockBookingCode,
  recordWrongBookingCode,
  setReservationCustomer,
} from '../persistence/repositories/scheduling/booking-codes.ts';
import { findReservation, releaseLiveHold } from '../persistence/repositories/scheduling/holds.ts';
import type { HoldView, Reservation } from '../persistence/repositories/scheduling/reservation-rows.ts';
import type { Dispatch } from './dispatch.ts';
import type { EventTrace } from './scheduling/appointment-events.ts';
import { confirmHold } from './scheduling/confirm-hold.ts';
import { placeHold } from './scheduling/place-hold.ts';
import { releaseHold } from './scheduling/release-hold.ts';
import { loadSchedulingSettings } from './scheduling/scheduling-settings.ts';

// Booking through the public page (/api/public/:slug) by a customer who proves their phone.
// Decisions that must stay true:
// - A hold is placed only together with a code texted to the customer's phone: the hold, its
//   customer, the code's hash and the text are written in ONE dispatch of the caller's conversation
//   (found, or opened as a missed call opens it), so the text goes through the conversation's own
//   send path and guards — an opted-out caller or a tenant without an approved campaign gets nothing.
// - Whether a text left is never told to the client (it would reveal who opted out): the answer is
//   the same 201 either way, and an unconfirmed hold lapses after its TTL.
// - A phone has at most `public_booking.max_live_holds_per_phone` live holds per tenant; the next is
//   429 `rate_limited` with Retry-After until the first one lapses. Requests for one phone take turns
//   on the conversation's row lock, so two at once cannot both squeeze under the limit.
// - Only the code's hash is stored. A wrong code is 422 `unprocessable`; the wrong code that reaches
//   `public_booking.max_code_attempts` releases the hold (the slot is free again) and from then on
//   the hold is 409 `conflict`. Tries of one hold take turns on its code row.
// - The public API acts only on holds placed through it (they have a code): any other hold id, of
//   this tenant or another, is 404 like an unknown one.

export type PublicBookingDeps = {
  db: Pool;
  boss: Pick<PgBoss, 'send'>;
  dispatch: Dispatch;
  /** HOLD_TTL_MINUTES: the default a tenant's scheduling policy can override. */
  holdTtlMinutes: number;
};

export type Customer = { name: string; phone: string };

export type PublicHoldRequest = {
  tenantId: string;
  serviceId: string;
  resourceId: string;
  start: string;
  customer: Customer;
  correlationId: string;
};

const SIX_DIGITS = 1_000_000;

export async function requestPublicHold(
  deps: PublicBookingDeps,
  input: PublicHoldRequest,
): Promise<HoldView> {
  const { tenantId, customer } = input;
  const settings = await loadSchedulingSettings(deps.db, tenantId, { holdTtlMinutes: deps.holdTtlMinutes });
  const holdId = randomUUID();
  const code = String(randomInt(0, SIX_DIGITS)).padStart(6, '0');
  const now = new Date().toISOString();
  const placed: { hold?: HoldView } = {};
  await deps.dispatch(
    tenantId,
    { caller: customer.phone },
    { type: 'PublicBookingCodeRequested', holdId, code, at: now },
    {
      correlationId: input.correlationId,
      record: async ({ client, conversation }) => {
        const policy = await loadPolicy(client, tenantId);
        const live = await liveCustomerHolds(client, tenantId, customer.phone, now);
        if (live.count >= policy['public_booking.max_live_holds_per_phone']) {
          const seconds = live.firstExpiry
            ? Math.max(1, Math.ceil((Date.parse(live.firstExpiry) - Date.parse(now)) / 1000))
            : 60;
          throw new AppError(
            'rate_limited',
            `this phone already holds ${live.count} times here; book or release one, or retry in ${seconds} s`,
            { headers: { 'retry-after': String(seconds) } },
          );
        }
        placed.hold = await placeHold(client, {
          tenantId,
          id: holdId,
          serviceId: input.serviceId,
          resourceId: input.resourceId,
          start: input.start,
          now,
          holdTtlMinutes: settings.hold_ttl_minutes,
          conversationId: conversation.id,
          boss: deps.boss,
          settings,
        });
        await setReservationCustomer(client, tenantId, holdId, customer);
        await insertBookingCode(client, { tenantId, holdId, codeHash: hashBookingCode(holdId, code) });
      },
    },
  );
  if (!placed.hold) throw new Error('the public hold was not placed');
  return placed.hold;
}

type Attempt = { booked: Reservation } | { wrong: true; released: boolean };

/** Books the public hold when `code` is the one texted for it; the appointment row (with its customer). */
export async function confirmPublicBooking(
  deps: PublicBookingDeps,
  input: { tenantId: string; holdId: string; code: string; trace: EventTrace },
): Promise<Reservation> {
  const { tenantId, holdId } = input;
  // Wrong codes are counted in a transaction that commits; the 422 is thrown after it.
  const attempt = await inTransaction(deps.db, async (client): Promise<Attempt> => {
    const record = await lockBookingCode(client, tenantId, holdId);
    if (record === null) throw new AppError('not_found', 'hold not found');
    const maxAttempts = (await loadPolicy(client, tenantId))['public_booking.max_code_attempts'];
    if (record.failed_attempts >= maxAttempts) {
      throw new AppError('conflict', 'that hold was released after too many wrong codes');
    }
    if (!bookingCodeMatches(holdId, input.code, record.code_hash)) {
      const failed = await recordWrongBookingCode(client, tenantId, holdId);
      const now = new Date().toISOString();
      const released =
        failed >= maxAttempts && (await releaseLiveHold(client, tenantId, holdId, now, 'released')) !== null;
      return { wrong: true, released };
    }
    await confirmHold(client, { tenantId, holdId, now: new Date().toISOString(), trace: input.trace });
    const booked = await findReservation(client, tenantId, holdId);
    if (booked === null) throw new Error(`appointment ${holdId} vanished`);
    return { booked };
  });
  if ('booked' in attempt) return attempt.booked;
  throw new AppError(
    'unprocessable',
    attempt.released
      ? 'wrong code; too many wrong codes, so the time was released'
      : 'wrong code; check the text we sent',
  );
}

/** Lets a public hold go; any other hold id is not_found. */
export async function releasePublicHold(
  deps: PublicBookingDeps,
  input: { tenantId: string; holdId: string },
): Promise<void> {
  await inTransaction(deps.db, async (client) => {
    if ((await lockBookingCode(client, input.tenantId, input.holdId)) === null) {
      throw new AppError('not_found', 'hold not found');
    }
    await releaseHold(client, { ...input, now: new Date().toISOString() });
  });
}
