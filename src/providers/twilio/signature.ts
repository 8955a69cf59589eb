// The webhooks module alone: the package root would load the whole REST client (see lazy-sdk.ts).
import { getExpectedTwilioSignature, validateRequest } from 'twilio/lib/webhooks/webhooks.js';

// Twilio signs every webhook: HMAC-SHA1, keyed with the account's auth token, over the full URL it
// called (scheme, host, port, path, query) followed by each POST parameter name and value, sorted by
// name. So the app must validate against the URL Twilio was *given* (PUBLIC_BASE_URL + path), not the
// one it sees behind a proxy, and against the parameters exactly as decoded from the form body.
//
// Repeated keys: Twilio's voice and messaging webhooks never repeat a key (media arrive as MediaUrl0,
// MediaUrl1…), but the form encoding allows it. The SDK signs a repeated key by its distinct values,
// sorted; pass such a key as an array (as @fastify/formbody and node:querystring produce it). A parser
// that keeps only the last value would make such a request fail validation, which is the safe side.
//
// Both helpers delegate to the `twilio` package so that its URL tolerance (with and without the
// default port, legacy query escaping) stays the SDK's and is never re-implemented here.

export type TwilioFormParams = Record<string, string | readonly string[]>;

export interface TwilioSignatureCheck {
  authToken: string;
  /** The X-Twilio-Signature header; missing or empty never validates. */
  signature: string | null | undefined;
  /** The URL Twilio was configured with, query string included. */
  url: string;
  params: TwilioFormParams;
}

export function isValidTwilioSignature({ authToken, signature, url, params }: TwilioSignatureCheck): boolean {
  if (typeof signature !== 'string' || signature.length === 0 || authToken.length === 0) return false;
  try {
    return validateRequest(authToken, signature, url, params);
  } catch {
    // validateRequest parses the URL with `new URL`; an unparsable URL is simply not a valid request.
    return false;
  }
}

/** The X-Twilio-Signature Twilio would send for this request (for the sandbox and tests). */
export function signTwilioRequest(authToken: string, url: string, params: TwilioFormParams): string {
  return getExpectedTwilioSignature(authToken, url, params);
}
