import { createRequire } from 'node:module';
import type twilio from 'twilio';
// Types only: the SDK's root typings do not re-export RequestClient's options namespace.
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { lazyClient } from '../lazy-sdk.ts';

// The one way NMC builds a Twilio client: the real SDK, always, with its HTTP requests optionally
// sent to another base URL (TWILIO_API_BASE_URL, the sandbox in local runs and tests). The SDK has no
// base-URL option, but it accepts an `httpClient`; ours is the SDK's own RequestClient with the
// request URI rewritten just before it goes out. Production passes no apiBaseUrl and the rewrite is
// the identity, so both run the same code: same serialization, auth, timeouts and error types.
//
// Decisions:
// - Every request has a timeout (default 4 s, the SDK's own is 30 s): a send job must fail and retry
//   rather than hang, and a send job's lease (sms-send's expireInSeconds in job-queues.ts) is sized
//   to it, so the work of a process that died is handed out again within seconds. Twilio's API
//   answers in well under a second; a timed-out send is retried through the provider check, never
//   blindly. The SDK surfaces it as an axios error with code ECONNABORTED.
// - The SDK's own 429 auto-retry stays off: retries belong to the job queue (backoff with jitter,
//   dead letters), and two retry layers would multiply attempts.
// - With a base URL, *every* Twilio host (api., messaging., …) goes to it; the sandbox only speaks
//   the Messages API, which is all NMC calls.

export type { TwilioErrorClassification, TwilioErrorKind } from './classify-error.ts';
export { classifyTwilioError } from './classify-error.ts';

export type TwilioClient = twilio.Twilio;

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** e.g. http://127.0.0.1:4010; unset means Twilio itself. May carry a path prefix. */
  apiBaseUrl?: string;
  /** Per-request timeout in milliseconds. Default 4 000. */
  timeoutMs?: number;
}

export const DEFAULT_TWILIO_TIMEOUT_MS = 4_000;

function parseBaseUrl(apiBaseUrl: string): URL {
  let base: URL;
  try {
    base = new URL(apiBaseUrl);
  } catch {
    throw new TypeError('createTwilioClient: apiBaseUrl must be an absolute http(s) URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('createTwilioClient: apiBaseUrl must use http or https');
  }
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
    throw new TypeError('createTwilioClient: apiBaseUrl must not carry credentials, a query or a fragment');
  }
  return base;
}

/**
 * Moves a Twilio API URI onto `base`: scheme, host and port come from `base`, the path is the
 * original one (under `base`'s path, if it has one) and the query string is kept as it was.
 * `https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5` with base
 * `http://127.0.0.1:4010` becomes `http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?PageSize=5`.
 */
export function rewriteApiUri(uri: string, base: URL): string {
  const original = new URL(uri);
  const target = new URL(base.href);
  target.pathname = `${base.pathname.replace(/\/+$/, '')}${original.pathname}`;
  target.search = original.search;
  return target.href;
}

// The SDK is loaded at the first call, not at import (see lazy-sdk.ts); it is CommonJS, so a
// synchronous require keeps createTwilioClient synchronous.
const require = createRequire(import.meta.url);

function buildClient(options: TwilioClientOptions, base: URL | null, timeoutMs: number): TwilioClient {
  const sdk = require('twilio') as typeof twilio;

  class BaseUrlRequestClient extends sdk.RequestClient {
    readonly #base: URL | null;

    constructor() {
      super({ timeout: timeoutMs, autoRetry: false });
      this.#base = base;
    }

    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      const uri = this.#base === null ? opts.uri : rewriteApiUri(opts.uri, this.#base);
      return super.request<TData>({ ...opts, uri });
    }
  }

  return sdk(options.accountSid, options.authToken, {
    httpClient: new BaseUrlRequestClient(),
    autoRetry: false,
  });
}

export function createTwilioClient(options: TwilioClientOptions): TwilioClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TWILIO_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError('createTwilioClient: timeoutMs must be a positive number');
  }
  const base = options.apiBaseUrl === undefined ? null : parseBaseUrl(options.apiBaseUrl);
  return lazyClient(() => buildClient(options, base, timeoutMs));
}

export interface OutboundSms {
  from: string;
  to: string;
  body: string;
  /**
   * Where Twilio posts delivery statuses (PUBLIC_BASE_URL + /webhooks/twilio/sms/status). Absent for
   * texts that are not conversation messages (alert texts to the team): nothing would receive them.
   */
  statusCallback?: string;
  mediaUrl?: string[];
}

export interface SentSms {
  sid: string;
  /** Twilio's status at acceptance, normally `queued` (or `accepted` through a messaging service). */
  status: string;
}

/** Sends one message; a failure throws the SDK's error, for classifyTwilioError. */
export async function sendSms(client: TwilioClient, sms: OutboundSms): Promise<SentSms> {
  const message = await client.messages.create({
    from: sms.from,
    to: sms.to,
    body: sms.body,
    ...(sms.statusCallback !== undefined ? { statusCallback: sms.statusCallback } : {}),
    ...(sms.mediaUrl !== undefined && sms.mediaUrl.length > 0 ? { mediaUrl: sms.mediaUrl } : {}),
  });
  return { sid: message.sid, status: message.status };
}

/** The provider's view of a message, for when its status callback never came. */
export async function fetchSmsStatus(
  client: TwilioClient,
  sid: string,
): Promise<{ status: string; errorCode: string | null }> {
  const message = await client.messages(sid).fetch();
  return { status: message.status, errorCode: message.errorCode === null ? null : String(message.errorCode) };
}

export interface SentMessageQuery {
  to: string;
  from: string;
  body: string;
  /** Only messages Twilio dated at or after this instant (DateSent>=). */
  sentAfter: Date;
}

/**
 * Whether Twilio already holds a message with this To, From and body sent after `sentAfter`: the
 * check before re-sending a message whose previous attempt ended ambiguously (a timeout or a reset,
 * where Twilio may have accepted it). Returns the newest match, or null. A failure throws the SDK's
 * error, for classifyTwilioError.
 */
export async function findSentMessage(
  client: TwilioClient,
  query: SentMessageQuery,
): Promise<SentSms | null> {
  const messages = await client.messages.list({
    to: query.to,
    from: query.from,
    dateSentAfter: query.sentAfter,
    limit: 20,
  });
  const match = messages.find((m) => m.body === query.body);
  return match === undefined ? null : { sid: match.sid, status: match.status };
}
