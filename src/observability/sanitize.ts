// Logs are sanitized first: phone numbers, message bodies, tokens and signatures never reach a log
// line. Redaction works by key (whatever the value) and by pattern (E.164-looking numbers and
// bearer-looking tokens inside any string), so a number that ends up in an error message is caught too.

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

// E.164 (+ and 8–15 digits) and loosely formatted North American numbers.
const PHONE_PATTERN = /\+\d[\d\s().-]{6,18}\d|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b/g;
const TOKEN_PATTERN = /\b(?:Bearer\s+)?eyJ[\w-]+\.[\w-]+\.[\w-]*|\b(?:sk|rk|whsec)_[A-Za-z0-9_]{8,}/g;

export const REDACTED = '[redacted]';

export function sanitizeString(value: string): string {
  return value.replace(TOKEN_PATTERN, REDACTED).replace(PHONE_PATTERN, '[phone]');
}

export function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return sanitizeString(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: sanitizeString(value.message),
      stack: value.stack && sanitizeString(value.stack),
    };
  }
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : sanitize(inner, depth + 1);
  }
  return out;
}
