import { createLocalJWKSet, createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { AppError } from '../../domain/errors.ts';

// Verifies operator Bearer tokens: signature against the issuer's JWKS (remote and cached, with a
// refetch on an unknown `kid` for key rotation; or the local dev issuer's), issuer, audience, an
// algorithm allow-list (no `none`, no HMAC: a public key can never serve as a shared secret), and
// expiry / not-before with a small clock tolerance, and the token's age by `iat`: older than the
// configured maximum, or issued in the future beyond the tolerance, is refused (a stolen or
// mis-minted token does not live on whatever its `exp` says).

export const ALLOWED_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
export const CLOCK_TOLERANCE_SECONDS = 30;

export type TokenVerifierOptions = {
  issuer: string;
  audience: string;
  jwks: { url: string } | { keys: { keys: object[] } };
  maxTokenAgeSeconds: number;
};

/** Longest `sub` accepted: identity providers' ids are far shorter; a longer one is not theirs. */
export const MAX_SUBJECT_LENGTH = 255;

export type TokenVerifier = (token: string) => Promise<JWTPayload>;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keySet =
    'url' in options.jwks
      ? createRemoteJWKSet(new URL(options.jwks.url), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
      : createLocalJWKSet(options.jwks.keys as Parameters<typeof createLocalJWKSet>[0]);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: options.maxTokenAgeSeconds,
      });
      if (typeof payload.sub !== 'string' || payload.sub.length > MAX_SUBJECT_LENGTH) throw new Error('sub');
      return payload;
    } catch {
      // One answer for every failure: the reason helps an attacker more than an operator.
      throw new AppError('unauthorized', 'the bearer token is missing, invalid or expired');
    }
  };
}
