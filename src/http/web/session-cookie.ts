import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';

// The web app's session cookie and its CSRF defence. The browser holds only a random id
// (HttpOnly, SameSite=Strict, Secure outside localhost, `__Host-` prefixed when Secure so no
// subdomain can plant one); the server stores its hash beside the identity provider's tokens.
//
// A state-changing request authenticated by the cookie must come from the app's own origin
// (Origin header) AND carry the custom header `X-NMC-CSRF`, which no cross-site form can send and
// no cross-site script can add without a CORS preflight this server never grants.

export const CSRF_HEADER = 'x-nmc-csrf';
export const LOGIN_COOKIE = 'nmc_login';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type WebSessionSettings = {
  /** `__Host-nmc_session` when Secure, else `nmc_session` (browsers refuse __Host- without Secure). */
  cookieName: string;
  secure: boolean;
  /** The app's own origin (PUBLIC_BASE_URL's). */
  origin: string;
};

export function webSessionSettings(publicBaseUrl: string): WebSessionSettings {
  const url = new URL(publicBaseUrl);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const secure = url.protocol === 'https:' || !local;
  return { cookieName: secure ? '__Host-nmc_session' : 'nmc_session', secure, origin: url.origin };
}

export function newBrowserSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashBrowserSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Refuses a cookie-authenticated state change that is not from the app's origin with the custom header. */
export function checkCsrf(request: FastifyRequest, settings: WebSessionSettings): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (request.headers.origin !== settings.origin || request.headers[CSRF_HEADER] !== '1')
    throw new AppError('forbidden', 'a cross-site request was refused (Origin and X-NMC-CSRF are required)');
}
