import { createHash, timingSafeEqual } from 'node:crypto';

// The 6-digit code a public booking texts to the customer's phone. Only its hash is stored, bound to
// the hold it was made for (the same code for another hold hashes differently). Six digits are few
// enough to guess offline from a leaked hash; what protects a hold is the online limit on wrong
// tries (policy `public_booking.max_code_attempts`), after which the hold is released.

export const BOOKING_CODE_PATTERN = /^\d{6}$/;

export function hashBookingCode(holdId: string, code: string): string {
  return createHash('sha256').update(`${holdId}:${code}`).digest('hex');
}

/** Whether `code` is the one hashed into `storedHash` for this hold; constant time in the hash. */
export function bookingCodeMatches(holdId: string, code: string, storedHash: string): boolean {
  const given = Buffer.from(hashBookingCode(holdId, code), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
