// One outbound message as the sandbox holds it, and its wire form: the JSON of Twilio's Message
// resource (`/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`). The SDK deserializes that JSON
// into a MessageInstance, so field names, string-typed counters and RFC 2822 dates must match Twilio's.

export type SandboxMessageStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

/** When the sandbox saw something: `monotonicMs` is performance.now() (for latency), `date` the wall clock. */
export interface Timestamp {
  monotonicMs: number;
  date: Date;
}

export interface SandboxMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
  status: SandboxMessageStatus;
  errorCode: number | null;
  numSegments: number;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  receivedAt: Timestamp;
}

export const API_VERSION = '2010-04-01';

// Twilio writes RFC 2822 with a numeric zone ("Tue, 03 Mar 2026 17:00:00 +0000"); the SDK parses
// exactly that pattern, and would return an invalid Date for the "GMT" that toUTCString() ends with.
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';

// Billing-relevant and visible in Twilio's console, so worth approximating: GSM-7 bodies fit 160
// septets in one segment (153 when concatenated, extension characters cost two); anything else is
// UCS-2 at 70 UTF-16 units (67 when concatenated).
export function countSegments(body: string): number {
  let septets = 0;
  for (const ch of body) {
    if (GSM_BASIC.includes(ch)) septets += 1;
    else if (GSM_EXTENDED.includes(ch)) septets += 2;
    else {
      const units = body.length;
      return units <= 70 ? 1 : Math.ceil(units / 67);
    }
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}

const DELIVERY_ERROR_MESSAGES: Record<number, string> = {
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
};

export function messageUri(accountSid: string, sid: string): string {
  return `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}.json`;
}

export function toMessageResource(message: SandboxMessage): Record<string, unknown> {
  const uri = messageUri(message.accountSid, message.sid);
  return {
    account_sid: message.accountSid,
    api_version: API_VERSION,
    body: message.body,
    date_created: rfc2822(message.dateCreated),
    date_sent: message.dateSent === null ? null : rfc2822(message.dateSent),
    date_updated: rfc2822(message.dateUpdated),
    direction: 'outbound-api',
    error_code: message.errorCode,
    error_message: message.errorCode === null ? null : (DELIVERY_ERROR_MESSAGES[message.errorCode] ?? null),
    from: message.from,
    messaging_service_sid: null,
    num_media: String(message.mediaUrls.length),
    num_segments: String(message.numSegments),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: message.to,
    uri,
  };
}
