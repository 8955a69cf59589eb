import { randomUUID } from 'node:crypto';
import { signTwilioRequest } from '../signature.ts';

// How Twilio calls a webhook: POST, form-encoded, signed with X-Twilio-Signature over the URL it was
// given, with an I-Twilio-Idempotency-Token that stays the same when Twilio retries. Shared by the
// sandbox's status callbacks and the simulated phone so both look the same on the wire.

export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SignedFormPost {
  /** Where the request actually goes. */
  url: string;
  /** The URL the receiver believes it was called at, used for signing; defaults to `url`. */
  signedUrl?: string;
  authToken: string;
  params: Record<string, string>;
  /** undefined: sign correctly; null: send no signature header; a string: send exactly that. */
  signature?: string | null;
  idempotencyToken?: string;
  signal?: AbortSignal;
}

export async function postSignedForm(request: SignedFormPost): Promise<WebhookResponse> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'TwilioProxy/1.1',
    'i-twilio-idempotency-token': request.idempotencyToken ?? randomUUID(),
  };
  const signature =
    request.signature === undefined
      ? signTwilioRequest(request.authToken, request.signedUrl ?? request.url, request.params)
      : request.signature;
  if (signature !== null) headers['x-twilio-signature'] = signature;

  const response = await fetch(request.url, {
    method: 'POST',
    headers,
    body: new URLSearchParams(request.params).toString(),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: await response.text(),
  };
}
