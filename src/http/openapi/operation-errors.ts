import { ERROR_CATALOG, type ErrorCode } from '../../domain/errors.ts';
import { isApiSurface } from '../surface.ts';
import type { RouteDeclaration } from './route-declaration.ts';

// Which error answers an operation can give, from its declaration and the catalog: what every route
// of its kind can answer (the hooks in src/http/app.ts, the body parser, the rate limit, the
// idempotency check) plus the codes the route declares for its own handler. Pure: the document pass
// and the contract test read the same answer.

/** Methods whose requests Fastify reads a body for: a body can be too large or of a refused type. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Methods the X-Idempotency-Key check applies to on the API surfaces (src/http/idempotency.ts). */
const IDEMPOTENT_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function errorCodesOf(route: RouteDeclaration): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  const readsBody = BODY_METHODS.has(route.method);
  const idempotent = isApiSurface(route.surface) && IDEMPOTENT_METHODS.has(route.method);
  if (
    route.validatesParams ||
    route.validatesQuery ||
    route.validatesHeaders ||
    route.validatesBody ||
    idempotent
  )
    codes.add('validation_failed');
  if (readsBody) {
    codes.add('malformed_body');
    codes.add('payload_too_large');
    codes.add('unsupported_media_type');
  }
  if (route.authenticated) {
    codes.add('unauthorized');
    codes.add('forbidden');
  }
  if (route.surface === 'webhook') codes.add('signature_invalid');
  // A Twilio request validly signed but naming another account (src/http/twilio-webhook.ts).
  if (route.url.startsWith('/webhooks/twilio/')) codes.add('forbidden');
  // A path id that names nothing (or another tenant's row) is 404; so is a public slug.
  if (route.url.includes(':')) codes.add('not_found');
  if (idempotent) codes.add('idempotency_key_reused');
  if (isApiSurface(route.surface)) codes.add('rate_limited');
  codes.add('internal');
  codes.add('contract_violation');
  // Every route that reads the database answers 503 while it is unreachable; the ops routes say
  // for themselves (readiness has its own 503 body).
  if (route.surface !== 'ops') codes.add('unavailable');
  for (const code of route.errors) codes.add(code);
  return [...codes];
}

/** The codes grouped by their status, in status order. */
export function errorStatusesOf(route: RouteDeclaration): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  const codes = errorCodesOf(route).sort((a, b) => ERROR_CATALOG[a] - ERROR_CATALOG[b]);
  for (const code of codes) {
    const status = ERROR_CATALOG[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

/** What each code means to a client (a code not listed here is described by its name). */
export const ERROR_MEANINGS: Partial<Record<ErrorCode, string>> = {
  validation_failed: 'a parameter, header or the body breaks the schema (the message names which)',
  malformed_body: 'the body is not valid JSON (or not a readable form)',
  unauthorized: 'no credential, or an invalid or expired one',
  signature_invalid: "the provider's signature is missing or wrong",
  forbidden: "the caller's role may not do this, or the request names another account",
  not_found: 'nothing with this id (or slug) exists for the caller',
  method_not_allowed: 'the path exists but not with this method (see the Allow header)',
  conflict: 'the current state does not allow this (e.g. the slot is taken, the caller opted out)',
  gone: "a customer's link that expired, or whose booking was cancelled: it will not work again",
  payload_too_large: 'the body is larger than 256 KiB',
  unsupported_media_type: 'the body is not of a content type this operation reads',
  idempotency_key_reused: 'this X-Idempotency-Key was used with a different request',
  unprocessable: 'the request is well formed but cannot be carried out as asked',
  rate_limited: 'too many requests; retry after Retry-After seconds',
  internal: 'an unexpected failure; the correlation id finds it in the logs',
  contract_violation: 'the server built a response its own schema refuses; the correlation id finds it',
  unavailable: 'a dependency is unreachable or not configured here; retry later (Retry-After, when sent)',
};
