// Which surface a route belongs to, decided once from the route's own declared URL when it is
// registered, and read by every hook from the matched route's config: never from the raw request
// URL, whose spelling (`/%61pi/…`, `/API/…`, a trailing slash) an attacker chooses while the router
// matches its decoded form. A request that matches no route has no surface and is a 404.

export type Surface = 'operator' | 'staff' | 'public' | 'webhook' | 'ops';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set for every route at registration (src/http/app.ts); absent on the 404 handler. */
    surface?: Surface;
  }
}

export function surfaceOfRoute(url: string): Surface {
  if (url.startsWith('/api/staff/')) return 'staff';
  if (url.startsWith('/api/public/')) return 'public';
  // The customer's own page: no login, its own signed token (src/http/routes/portal.ts).
  if (url.startsWith('/api/portal/')) return 'public';
  if (url.startsWith('/api/')) return 'operator';
  if (url.startsWith('/webhooks/')) return 'webhook';
  return 'ops';
}

/** Surfaces reached by people and programs with an account or a slug: the API, rate-limited. */
export function isApiSurface(surface: Surface | undefined): boolean {
  return surface === 'operator' || surface === 'staff' || surface === 'public';
}
