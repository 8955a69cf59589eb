import { createHmac, timingSafeEqual } from 'node:crypto';

// Jobber signs each webhook with the app's OAuth client secret: X-Jobber-Hmac-SHA256 is the
// base64 HMAC-SHA256 of the raw body. The sandbox signs with this, the webhook route checks with it.

export const JOBBER_SIGNATURE_HEADER = 'x-jobber-hmac-sha256';

export function jobberSignature(clientSecret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', clientSecret).update(rawBody).digest('base64');
}

/** Constant-time comparison of the header against the body's signature. */
export function validJobberSignature(
  clientSecret: string,
  rawBody: Buffer,
  header: string | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(jobberSignature(clientSecret, rawBody), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
