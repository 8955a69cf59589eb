import { hkdfSync } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Keyring } from '../../domain/token-encryption.ts';

// The customer's portal token: a JWT (HS256) naming one tenant, one booking and the customer's
// phone, for the portal only (its own audience), short-lived (at most an hour, never past the
// link's expiry). Signed with a key derived from the platform keyring's current key (HKDF), so every
// process signs and verifies alike and nothing new has to be configured.

const AUDIENCE = 'nmc-portal';
const ISSUER = 'nevermisscall';
const MAX_LIFETIME_S = 3_600;

export type PortalClaims = { tenantId: string; bookingId: string; phone: string };

export function portalKey(keyring: Keyring): Uint8Array {
  const secret = keyring.keys.get(keyring.current);
  if (!secret) throw new Error('the keyring has no current key');
  return new Uint8Array(hkdfSync('sha256', secret, Buffer.alloc(0), 'nmc portal token v1', 32));
}

export async function mintPortalToken(
  key: Uint8Array,
  claims: PortalClaims,
  input: { nowMs: number; linkExpiresMs: number },
): Promise<{ token: string; expiresAt: string }> {
  const nowS = Math.floor(input.nowMs / 1000);
  const exp = Math.min(nowS + MAX_LIFETIME_S, Math.floor(input.linkExpiresMs / 1000));
  const token = await new SignJWT({ tid: claims.tenantId, bid: claims.bookingId, phone: claims.phone })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(nowS)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** The token's claims, or null when it is not a valid, unexpired portal token. */
export async function verifyPortalToken(key: Uint8Array, token: string): Promise<PortalClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
    });
    const { tid, bid, phone } = payload;
    if (typeof tid !== 'string' || typeof bid !== 'string' || typeof phone !== 'string') return null;
    return { tenantId: tid, bookingId: bid, phone };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}
