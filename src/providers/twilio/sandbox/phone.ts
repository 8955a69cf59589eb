import { API_VERSION, countSegments } from './message-resource.ts';
import { newSid } from './sids.ts';
import { postSignedForm, type WebhookResponse } from './signed-form-post.ts';

// A phone on the other side of Twilio, for tests and the CLI: it calls the business, lets the call
// go unanswered, texts, and reports delivery statuses, by sending the app the same signed,
// form-encoded webhooks Twilio would. Parameters follow Twilio's documented webhook fields so the
// app's parsing is exercised as in production.
//
// Signing uses `publicBaseUrl` (what the app believes its public URL is, PUBLIC_BASE_URL) while the
// request goes to `appBaseUrl`; that split is what lets a test prove the app validates against its
// public URL rather than the address it was reached at.

export type { WebhookResponse } from './signed-form-post.ts';

export type DialCallStatus = 'no-answer' | 'busy' | 'failed' | 'canceled' | 'completed';
export type OptOutType = 'STOP' | 'START' | 'HELP';
export type MessageStatusUpdate =
  | 'accepted'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'read';

export interface SimulatedPhoneOptions {
  /** Where the app listens, e.g. http://127.0.0.1:3000 */
  appBaseUrl: string;
  /** The URL the app believes it is reached at (used for signing). Default: appBaseUrl. */
  publicBaseUrl?: string;
  authToken: string;
  accountSid: string;
}

export interface PostOptions {
  /** undefined: a valid signature; null: no X-Twilio-Signature header; a string: exactly that header. */
  signature?: string | null;
}

export interface SimulatedPhone {
  call(input: {
    from: string;
    to: string;
    callSid?: string;
  }): Promise<{ callSid: string; response: WebhookResponse }>;
  dialStatus(input: {
    callSid: string;
    from: string;
    to: string;
    dialCallStatus: DialCallStatus;
    dialCallDuration?: number;
    answeredBy?: string;
  }): Promise<WebhookResponse>;
  /** A call the business does not pick up: the voice webhook, then dial-status `no-answer`. */
  missedCall(input: {
    from: string;
    to: string;
  }): Promise<{ callSid: string; call: WebhookResponse; dialStatus: WebhookResponse }>;
  sms(input: {
    from: string;
    to: string;
    body: string;
    media?: string[];
    optOutType?: OptOutType;
    /** Reuse a sid to replay the same inbound message (idempotency tests). */
    messageSid?: string;
  }): Promise<{ messageSid: string; response: WebhookResponse }>;
  status(input: {
    messageSid: string;
    status: MessageStatusUpdate;
    errorCode?: number;
    /** The business's number the message was sent from. */
    from?: string;
    /** The caller's number it was sent to. */
    to?: string;
  }): Promise<WebhookResponse>;
  post(path: string, params: Record<string, string>, options?: PostOptions): Promise<WebhookResponse>;
}

function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

// Twilio fills *Country from the number; NMC only serves NANP numbers today.
function countryOf(e164: string): string {
  return e164.startsWith('+1') ? 'US' : '';
}

function mediaContentType(url: string): string {
  const path = url.split('?')[0]?.toLowerCase() ?? '';
  if (path.endsWith('.png')) return 'image/png';
  if (path.endsWith('.gif')) return 'image/gif';
  if (path.endsWith('.mp4')) return 'video/mp4';
  if (path.endsWith('.vcf')) return 'text/vcard';
  return 'image/jpeg';
}

export function createSimulatedPhone(options: SimulatedPhoneOptions): SimulatedPhone {
  const appBaseUrl = trimTrailingSlashes(options.appBaseUrl);
  const publicBaseUrl = trimTrailingSlashes(options.publicBaseUrl ?? options.appBaseUrl);
  const { authToken, accountSid } = options;

  function post(path: string, params: Record<string, string>, postOptions: PostOptions = {}) {
    if (!path.startsWith('/')) throw new TypeError('simulated phone: path must start with "/"');
    return postSignedForm({
      url: `${appBaseUrl}${path}`,
      signedUrl: `${publicBaseUrl}${path}`,
      authToken,
      params,
      ...(postOptions.signature === undefined ? {} : { signature: postOptions.signature }),
    });
  }

  function callParams(callSid: string, from: string, to: string, callStatus: string): Record<string, string> {
    return {
      AccountSid: accountSid,
      ApiVersion: API_VERSION,
      CallSid: callSid,
      CallStatus: callStatus,
      Called: to,
      CalledCountry: countryOf(to),
      Caller: from,
      CallerCountry: countryOf(from),
      Direction: 'inbound',
      From: from,
      FromCountry: countryOf(from),
      To: to,
      ToCountry: countryOf(to),
    };
  }

  const phone: SimulatedPhone = {
    post,

    async call({ from, to, callSid = newSid('CA') }) {
      const response = await post('/webhooks/twilio/voice', callParams(callSid, from, to, 'ringing'));
      return { callSid, response };
    },

    dialStatus({ callSid, from, to, dialCallStatus, dialCallDuration, answeredBy }) {
      // The <Dial> action fires while the caller's leg is still up, except when the caller hung up
      // first (`canceled`): then the parent call is already completed.
      const params = callParams(
        callSid,
        from,
        to,
        dialCallStatus === 'canceled' ? 'completed' : 'in-progress',
      );
      params.DialCallStatus = dialCallStatus;
      params.DialCallSid = newSid('CA');
      if (dialCallDuration !== undefined) params.DialCallDuration = String(dialCallDuration);
      else if (dialCallStatus === 'completed') params.DialCallDuration = '0';
      if (answeredBy !== undefined) params.AnsweredBy = answeredBy;
      return post('/webhooks/twilio/voice/dial-status', params);
    },

    async missedCall({ from, to }) {
      const { callSid, response: call } = await phone.call({ from, to });
      const dialStatus = await phone.dialStatus({ callSid, from, to, dialCallStatus: 'no-answer' });
      return { callSid, call, dialStatus };
    },

    async sms({ from, to, body, media = [], optOutType, messageSid }) {
      const sid = messageSid ?? newSid(media.length > 0 ? 'MM' : 'SM');
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: API_VERSION,
        Body: body,
        From: from,
        FromCountry: countryOf(from),
        MessageSid: sid,
        NumMedia: String(media.length),
        NumSegments: String(countSegments(body)),
        SmsMessageSid: sid,
        SmsSid: sid,
        SmsStatus: 'received',
        To: to,
        ToCountry: countryOf(to),
      };
      media.forEach((url, index) => {
        params[`MediaUrl${index}`] = url;
        params[`MediaContentType${index}`] = mediaContentType(url);
      });
      if (optOutType !== undefined) params.OptOutType = optOutType;
      const response = await post('/webhooks/twilio/sms', params);
      return { messageSid: sid, response };
    },

    status({ messageSid, status, errorCode, from, to }) {
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: API_VERSION,
        MessageSid: messageSid,
        MessageStatus: status,
        SmsSid: messageSid,
        SmsStatus: status,
      };
      if (from !== undefined) params.From = from;
      if (to !== undefined) params.To = to;
      if (errorCode !== undefined) params.ErrorCode = String(errorCode);
      return post('/webhooks/twilio/sms/status', params);
    },
  };
  return phone;
}
