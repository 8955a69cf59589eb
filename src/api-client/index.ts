import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.ts';

// The typed client of the NeverMissCall API, for the CLI and the web app: openapi-fetch over the
// types generated from the server's own OpenAPI document (schema.ts), so a path, a parameter or a
// field that the server does not have is a compile error in the caller. Every call answers
// `{ data, error, response }`: `error` is the error envelope for any 4xx/5xx.

export type { components, operations, paths } from './schema.ts';

export type ApiClient = Client<paths>;

/** The body of every 4xx/5xx answer. */
export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

export type ApiClientOptions = {
  /** The server's origin (and prefix, if any), e.g. `http://127.0.0.1:3000`; paths start at `/api/…`. */
  baseUrl: string;
  /** A bearer token, or a function that reads the current one before each request. */
  token?: string | (() => string | null | undefined | Promise<string | null | undefined>);
  /** Another fetch (a test's, or one with a timeout); the global fetch otherwise. */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
};

export function createApiClient(options: ApiClientOptions): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const { token } = options;
  if (token !== undefined) {
    const bearer: Middleware = {
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        if (value) request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    };
    client.use(bearer);
  }
  return client;
}
