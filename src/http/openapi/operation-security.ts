import type { RouteDeclaration } from './route-declaration.ts';

// The credentials the API accepts, and which one each operation needs, from its surface: operator
// and staff routes take the bearer JWT; each provider's webhook its signature or channel token;
// public and ops routes none. A route whose credential is its own (the event stream's stoken)
// declares `schema.security`, which wins.

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "A JWT from the identity provider (or, locally, `npm run nmc -- token`); its organisation claim names the tenant and its role claim the user's role.",
  },
  streamToken: {
    type: 'apiKey',
    in: 'query',
    name: 'stoken',
    description:
      'A single-use token from POST /api/v1/stream-tokens, valid 60 s, spent by the request that opens the stream.',
  },
  portalToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      "A customer's portal token from POST /api/portal/sessions (the code of their link exchanged), valid at most an hour.",
  },
  twilioSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Twilio-Signature',
    description:
      "Twilio's HMAC-SHA1 of the public URL and the form parameters, with the account's auth token (PUBLIC_BASE_URL must be the URL Twilio calls).",
  },
  stripeSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'Stripe-Signature',
    description:
      "Stripe's timestamped HMAC-SHA256 of the raw body with the webhook's signing secret (300 s tolerance).",
  },
  googleChannelToken: {
    type: 'apiKey',
    in: 'header',
    name: 'x-goog-channel-token',
    description: "The token this server gave Google when it opened the calendar's watch channel.",
  },
  jobberSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Jobber-Hmac-SHA256',
    description: "Jobber's base64 HMAC-SHA256 of the raw body with the Jobber app's OAuth client secret.",
  },
} as const;

export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
export type SecurityRequirement = Partial<Record<SecuritySchemeName, string[]>>;

export function securityOf(route: RouteDeclaration): SecurityRequirement[] {
  if (route.authenticated) return [{ bearer: [] }];
  if (route.surface !== 'webhook') return [];
  if (route.url.startsWith('/webhooks/twilio/')) return [{ twilioSignature: [] }];
  if (route.url.startsWith('/webhooks/stripe')) return [{ stripeSignature: [] }];
  if (route.url.startsWith('/webhooks/google/')) return [{ googleChannelToken: [] }];
  if (route.url.startsWith('/webhooks/jobber')) return [{ jobberSignature: [] }];
  return [];
}
