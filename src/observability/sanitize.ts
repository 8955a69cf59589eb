// Logs are sanitized first: phone numbers, message bodies, tokens and signatures never reach a log
// line. Redaction works by key (whatever the value) and by pattern inside every string (E.164 and
// formatted numbers, any run of 7 or more digits, bearer-looking tokens), so a number that ends up
// in an error message is caught too: Postgres quotes the offending value in `detail`
// ("Key (tenant_id, phone)=(…, 3105551212) already exists."), Twilio in its message.

const SECRET_KEYS = new Set(
  [
    'body',
    'text',
    'message_body',
    'authorization',
    'cookie',
    'set-cookie',
    'token',
    'stoken',
    'access_token',
    'id_token',
    'refresh_token',
    'password',
    'secret',
    'api_key',
    'apikey',
    'auth_token',
    'x-twilio-signature',
    'stripe-signature',
    'signature',
    'phone',
    'caller',
    'from',
    'to',
    'called',
    'forwarding_phone',
    'twilio_number',
  ].map((k) => k.toLowerCase()),
);

// E.164 (+, or its URL encoding %2B, and 8–15 digits) and loosely formatted North American numbers.
const PHONE_PATTERN = /(?:\+|%2B)\d[\d\s().-]{6,18}\d|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b/gi;
// Also Google's OAuth tokens: access tokens `ya29.…`, refresh tokens `1//…` (in a revoke URL's query).
const TOKEN_PATTERN =
  /\b(?:Bearer\s+)?eyJ[\w-]+\.[\w-]+\.[\w-]*|\b(?:sk|rk|whsec)_[A-Za-z0-9_]{8,}|\bya29\.[\w.-]+|\b1\/\/[\w.-]{8,}/g;

// A bare run of 7+ digits may be a phone number without its +1 (3105551212) or a local one
// (5551212). Kept whole, because they are needed to read a log and are not personal: UUIDs (their
// last group can be all digits), RFC 3339 timestamps (fractions of a second), and words that mix
// letters and digits (Twilio SIDs, Stripe ids, hashes), whose digit runs are part of an identifier.
// A number glued to letters (`from3105551212`) is therefore kept; one written with its + is not.
// A percent escape (`%3A`) is read as a token of its own, so `tel%3A3105551212` is not a mixed word.
// The string is read word by word (each word matched whole, then judged), which keeps the cost
// linear in its length: a pattern asking "is there a letter somewhere in this word?" backtracks.
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const TIMESTAMP =
  '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}(?::?\\d{2})?)?';
const PERCENT_ESCAPE = '%[0-9A-Fa-f]{2}';
const WORDS_PATTERN = new RegExp(`(${UUID}|${TIMESTAMP}|${PERCENT_ESCAPE})|\\w+`, 'g');
const LETTER = /[A-Za-z]/;
const DIGIT_RUN = /\d{7,}/g;

function redactDigitRuns(word: string, kept: string | undefined): string {
  if (kept !== undefined || LETTER.test(word)) return word;
  return word.replace(DIGIT_RUN, '[number]');
}

export const REDACTED = '[redacted]';

export function sanitizeString(value: string): string {
  return value
    .replace(TOKEN_PATTERN, REDACTED)
    .replace(PHONE_PATTERN, '[phone]')
    .replace(WORDS_PATTERN, redactDigitRuns);
}

export function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return sanitizeString(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return sanitizeError(value, depth);
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : sanitize(inner, depth + 1);
  }
  return out;
}

/**
 * An error as a plain object: its name, message and stack, its own fields (pg's DatabaseError
 * carries `code`, `detail`, `hint`, `where`, `table`, `constraint`…) and its `cause`, each
 * sanitized like any other value (by key, then by pattern).
 */
function sanitizeError(error: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: error.name,
    message: sanitizeString(error.message),
    stack: error.stack && sanitizeString(error.stack),
  };
  for (const [key, inner] of Object.entries(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || inner === undefined) continue;
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : sanitize(inner, depth + 1);
  }
  if (error.cause !== undefined) out.cause = sanitize(error.cause, depth + 1);
  return out;
}
