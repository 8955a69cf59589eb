import type { RouteOptions } from 'fastify';
import type { ErrorCode } from '../../domain/errors.ts';
import { type Surface, surfaceOfRoute } from '../surface.ts';

// What the document needs to know about a route beyond its schemas, read from the route's own
// declarations (its URL, method, config and which inputs it validates). Carried from the per-route
// transform to the whole-document pass as an extension that the pass removes.

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The error codes this route's handler (or what it calls) can answer beyond those every route of
     * its kind can (validation, authentication, not found for a path id, rate limit, …): e.g.
     * `conflict` for a slot already taken. Published as the operation's error responses.
     */
    errors?: readonly ErrorCode[];
  }
}

export const DECLARATION_EXTENSION = 'x-nmc-route';

export type RouteDeclaration = {
  method: string;
  url: string;
  surface: Surface;
  /** Authenticated by a bearer token (or the web session): an operator or staff route that is not public. */
  authenticated: boolean;
  validatesParams: boolean;
  validatesQuery: boolean;
  validatesHeaders: boolean;
  validatesBody: boolean;
  errors: readonly ErrorCode[];
};

type RouteLike = Pick<RouteOptions, 'method' | 'url' | 'config' | 'schema'>;

export function declarationOf(route: RouteLike, method: string): RouteDeclaration {
  const config = (route.config ?? {}) as {
    surface?: Surface;
    public?: boolean;
    errors?: readonly ErrorCode[];
  };
  const surface = config.surface ?? surfaceOfRoute(route.url);
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  return {
    method,
    url: route.url,
    surface,
    authenticated: (surface === 'operator' || surface === 'staff') && config.public !== true,
    validatesParams: schema.params !== undefined,
    validatesQuery: schema.querystring !== undefined,
    validatesHeaders: schema.headers !== undefined,
    validatesBody: schema.body !== undefined,
    errors: config.errors ?? [],
  };
}
