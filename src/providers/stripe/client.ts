import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import { lazyClient } from '../lazy-sdk.ts';

// The one way NMC builds a Stripe client: the real SDK, always, optionally pointed at another base
// URL (STRIPE_API_BASE_URL: the sandbox in local runs and tests, or stripe-mock) through the SDK's
// own `host`, `port` and `protocol` options. Production passes no apiBaseUrl, so both run the same
// code: same form encoding, auth, retries and error types.
//
// Decisions:
// - Every request has a timeout (10 s, the SDK's own is 80 s): these calls happen inside an owner's
//   HTTP request.
// - The SDK's network retries stay at 1: it sends an Idempotency-Key with retried POSTs, so a retry
//   never creates a second customer or session.

export type StripeClient = Stripe;

// The SDK is loaded at its first use, not at import (see lazy-sdk.ts): synchronously, through its
// CommonJS build, so that createStripeClient stays synchronous. The sandbox uses the same build.
const require = createRequire(import.meta.url);
export const loadStripeSdk = (): typeof Stripe => require('stripe') as typeof Stripe;

export interface StripeClientOptions {
  secretKey: string;
  /** e.g. http://127.0.0.1:4011; unset means Stripe itself. Must not carry a path. */
  apiBaseUrl?: string;
  /** Per-request timeout in milliseconds. Default 10 000. */
  timeoutMs?: number;
}

export const DEFAULT_STRIPE_TIMEOUT_MS = 10_000;

function endpointOf(apiBaseUrl: string): { host: string; port: number; protocol: 'http' | 'https' } {
  let base: URL;
  try {
    base = new URL(apiBaseUrl);
  } catch {
    throw new TypeError('createStripeClient: apiBaseUrl must be an absolute http(s) URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('createStripeClient: apiBaseUrl must use http or https');
  }
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
    throw new TypeError('createStripeClient: apiBaseUrl must not carry credentials, a query or a fragment');
  }
  // The SDK has no base-path option: a prefix would be silently dropped, so refuse it.
  if (base.pathname !== '/' && base.pathname !== '') {
    throw new TypeError('createStripeClient: apiBaseUrl must not carry a path');
  }
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const port = base.port === '' ? (protocol === 'http' ? 80 : 443) : Number(base.port);
  return { host: base.hostname, port, protocol };
}

export function createStripeClient(options: StripeClientOptions): StripeClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STRIPE_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError('createStripeClient: timeoutMs must be a positive number');
  }
  const endpoint = options.apiBaseUrl === undefined ? {} : endpointOf(options.apiBaseUrl);
  return lazyClient(() => {
    const StripeSdk = loadStripeSdk();
    return new StripeSdk(options.secretKey, {
      timeout: timeoutMs,
      maxNetworkRetries: 1,
      telemetry: false,
      ...endpoint,
    });
  });
}
