import { sanitizeString } from '../../observability/sanitize.ts';

// Failures are classified where they happen, once: the send job only asks "retry, give up, or block
// this caller?". What must stay true:
// - 21610 (recipient replied STOP at the carrier) is its own kind whatever the HTTP status: the
//   caller is opted out, so the conversation must be blocked, not merely this message dropped.
// - 429, 408 and every 5xx are retryable; so is any error without an HTTP status that looks like the
//   network (refused, reset, DNS, timeout). A timeout or a reset after the request may have left is
//   `ambiguous` (Twilio may have accepted it): it is still retried, but the retry first asks Twilio
//   whether the message exists. Failures before anything was sent (refused, DNS, unreachable,
//   connect timeout) and every HTTP answer (429/5xx/4xx) are not ambiguous.
// - Every other 4xx is permanent (21211 invalid number, 21614 not mobile, 20003 bad credentials…).
// - Anything unrecognised is permanent: a bug does not get better with six attempts.
// - The message is sanitized: Twilio sometimes quotes the phone number in it, and it will be logged.

export const TWILIO_OPTED_OUT_CODE = 21610;

export type TwilioErrorKind = 'retryable' | 'permanent' | 'opted_out';

export interface TwilioErrorClassification {
  kind: TwilioErrorKind;
  /** Twilio's error code (e.g. 21610), when the API answered with one. */
  code?: number;
  /** HTTP status, when the API answered at all. */
  status?: number;
  message: string;
  /** The request may have reached Twilio and been accepted (timeout, reset): check before re-sending. */
  ambiguous: boolean;
}

// Node socket/DNS codes, axios's timeout and network codes, undici's (global fetch) codes.
const NETWORK_ERROR_CODES = new Set([
  'ECONNABORTED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_NETWORK',
  'ERR_CANCELED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'ABORT_ERR',
]);
const NETWORK_ERROR_NAMES = new Set(['TimeoutError', 'AbortError']);
// The subset where the request cannot be known not to have arrived: it may have been sent and
// processed, and only the answer was lost. Refused/DNS/unreachable/connect timeouts never sent it.
const NOT_SENT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** null: not a network error; otherwise whether the request may have been processed. */
function networkErrorAmbiguity(err: unknown): { ambiguous: boolean } | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && isRecord(current); depth += 1) {
    if (typeof current.code === 'string' && NETWORK_ERROR_CODES.has(current.code)) {
      return { ambiguous: !NOT_SENT_ERROR_CODES.has(current.code) };
    }
    if (typeof current.name === 'string' && NETWORK_ERROR_NAMES.has(current.name)) return { ambiguous: true };
    current = current.cause;
  }
  return null;
}

export function classifyTwilioError(err: unknown): TwilioErrorClassification {
  const fields = isRecord(err) ? err : {};
  // The SDK's RestException and TwilioServiceException both carry a numeric `status` and `code`;
  // Node and axios errors carry a string `code` instead, which is not a Twilio code.
  const status = typeof fields.status === 'number' ? fields.status : undefined;
  const code = typeof fields.code === 'number' ? fields.code : undefined;
  const rawMessage =
    typeof fields.message === 'string' && fields.message.length > 0 ? fields.message : String(err);
  const base = {
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    message: sanitizeString(rawMessage),
    ambiguous: false,
  };

  if (code === TWILIO_OPTED_OUT_CODE) return { kind: 'opted_out', ...base };
  if (status !== undefined && status >= 400) {
    const retryable = status === 429 || status === 408 || status >= 500;
    return { kind: retryable ? 'retryable' : 'permanent', ...base };
  }
  const network = status === undefined ? networkErrorAmbiguity(err) : null;
  if (network !== null) return { kind: 'retryable', ...base, ambiguous: network.ambiguous };
  return { kind: 'permanent', ...base };
}
