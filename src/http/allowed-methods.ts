// The methods a path can be called with, for a 405's `Allow` header: a request whose path matches a
// registered route under other methods is 405 method_not_allowed, not 404 (RFC 9110 §15.5.6). Read
// from the route table the app records at registration (src/http/app.ts), matched the way the
// router matches: `:param` is one segment, `*` the rest, case-sensitive, a trailing slash ignored.

type RouteLike = { method: string; url: string };

function patternOf(url: string): RegExp {
  const source = url
    .replace(/\/+$/, '')
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*$/, '.*');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}

const compiled = new WeakMap<readonly RouteLike[], { method: string; pattern: RegExp }[]>();

/** The methods registered for `path` (no query), in a stable order; empty when no route has it. */
export function allowedMethodsFor(path: string, routes: readonly RouteLike[]): string[] {
  let table = compiled.get(routes);
  if (!table || table.length !== routes.length) {
    table = routes.map((r) => ({ method: r.method, pattern: patternOf(r.url) }));
    compiled.set(routes, table);
  }
  let decoded = path;
  try {
    decoded = decodeURI(path);
  } catch {
    // A malformed escape matches nothing the router would either.
  }
  const methods = new Set<string>();
  for (const { method, pattern } of table) if (pattern.test(decoded)) methods.add(method);
  return [...methods].sort();
}
