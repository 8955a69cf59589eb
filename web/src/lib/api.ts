import { createApiClient, type ErrorEnvelope } from '../../../src/api-client/index.ts';
import { sessionStore } from './session-store.ts';

// The app's one way to the API: the client generated from /openapi.json. The browser sends the
// session cookie by itself (same origin); every request carries the custom CSRF header the server
// requires of a cookie-authenticated state change (its Origin header the browser adds).

export const CSRF_HEADERS = { 'x-nmc-csrf': '1' };

export const api = createApiClient({
  baseUrl: window.location.origin,
  headers: CSRF_HEADERS,
  fetch: async (request) => {
    const response = await fetch(request);
    // The session ended (expired, or signed out elsewhere): show the sign-in page.
    if (response.status === 401) sessionStore.trigger.ended();
    return response;
  },
});

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, envelope: ErrorEnvelope | undefined) {
    super(envelope?.error.message ?? `the server answered ${status}`);
    this.code = envelope?.error.code ?? 'internal';
    this.status = status;
  }
}

/** The data of an answer, or an ApiError carrying the server's message. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) throw new ApiError(response.status, error as ErrorEnvelope);
  return data as T;
}
