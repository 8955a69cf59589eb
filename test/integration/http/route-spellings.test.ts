import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// Which surface a request belongs to is decided from the matched route, never from the raw URL.
// The router matches a decoded path (`/%61pi/staff/tenants` is `/api/staff/tenants`), so every
// hook that looked at `request.url` could be walked around by spelling the path differently. This
// file walks the app's whole route table and asks each route under many spellings — every character
// of its static prefix percent-encoded (upper and lower hex), all of them at once, a trailing slash,
// upper case, a doubled slash — as an anonymous caller, a tenant OWNER and a TECH: each spelling
// answers exactly what the plain spelling answers, or 404. Nothing is reachable that is not
// reachable by its plain spelling.

let t: TestSystem;
let app: App;
let callers: { name: string; token: string | null }[];

beforeAll(async () => {
  // The walk sends a few thousand requests: the rate limit is not what is under test here.
  t = await startTestSystem({ RATE_LIMIT_PER_MINUTE: '10000000' });
  app = appOf(t.system);
  const org = t.demo.auth_org_id;
  callers = [
    { name: 'anonymous', token: null },
    {
      name: 'OWNER',
      token: await tokenFor(t.system, { subject: `owner_${randomUUID()}`, role: 'OWNER', org }),
    },
    { name: 'TECH', token: await tokenFor(t.system, { subject: `tech_${randomUUID()}`, role: 'TECH', org }) },
  ];
});
afterAll(async () => {
  await t?.stop();
});

/** The route's path with its parameters filled in: the demo slug, else an id that does not exist. */
function concrete(url: string): string {
  return url
    .split('/')
    .map((segment) => {
      if (segment === ':slug') return 'demo';
      if (segment.startsWith(':')) return randomUUID();
      if (segment === '*') return 'x';
      return segment;
    })
    .join('/');
}

/** The static part of a route's path, up to its first parameter. */
function prefixOf(path: string, url: string): string {
  const firstParam = url.search(/[:*]/);
  return firstParam === -1 ? path : path.slice(0, firstParam);
}

const hex = (char: string) => char.charCodeAt(0).toString(16).padStart(2, '0');

function spellings(path: string, url: string): string[] {
  const prefix = prefixOf(path, url);
  const rest = path.slice(prefix.length);
  const out = new Set<string>();
  for (let i = 0; i < prefix.length; i++) {
    const char = prefix[i] ?? '';
    for (const code of new Set([hex(char).toUpperCase(), hex(char).toLowerCase()])) {
      out.add(`${prefix.slice(0, i)}%${code}${prefix.slice(i + 1)}${rest}`);
    }
  }
  out.add(`${[...prefix].map((c) => (c === '/' ? c : `%${hex(c).toUpperCase()}`)).join('')}${rest}`);
  out.add(`${path}/`);
  out.add(`${prefix.toUpperCase()}${rest}`);
  out.add(path.replace(/^\//, '//'));
  out.add(path.replace(/^\/([^/]+)\//, '/$1//'));
  out.delete(path);
  return [...out];
}

describe('every route under every spelling', () => {
  it('covers the whole route table (webhooks and ops included)', () => {
    const surfaces = new Set(app.routeTable.map((r) => r.surface));
    expect([...surfaces].sort()).toEqual(['operator', 'ops', 'public', 'staff', 'webhook']);
    expect(app.routeTable.some((r) => r.method === 'HEAD')).toBe(true);
  });

  it('answers each spelling as the plain one, or 404', async () => {
    const mismatches: string[] = [];
    let probes = 0;
    for (const route of app.routeTable) {
      const path = concrete(route.url);
      for (const caller of callers) {
        const plain = await call(app, { method: route.method, url: path, token: caller.token });
        for (const spelled of spellings(path, route.url)) {
          const res = await call(app, { method: route.method, url: spelled, token: caller.token });
          probes++;
          if (res.status !== plain.status && res.status !== 404) {
            mismatches.push(
              `${caller.name} ${route.method} ${spelled}: ${res.status} (plain ${path}: ${plain.status})`,
            );
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(probes).toBeGreaterThan(1000);
  }, 120_000); // a few thousand requests: seconds alone, longer on a loaded machine

  it('keeps the staff API closed to anyone but STAFF under encoded spellings (the reported bypass)', async () => {
    const owner = callers[1]?.token ?? null;
    for (const url of ['/%61pi/staff/tenants', '/ap%69/staff/tenants', '/%61%70%69/staff/tenants']) {
      for (const method of ['GET', 'HEAD']) {
        expect((await call(app, { method, url })).status).toBe(401);
        expect((await call(app, { method, url, token: owner })).status).toBe(403);
      }
    }
    for (const url of [`/%61pi/staff/compliance/${t.demo.id}/review`, '/%61pi/staff/dead-letters/replay']) {
      const res = await call(app, { method: 'POST', url, body: { decision: 'approved' } });
      expect(res.status).toBe(401);
    }
    const staff = await tokenFor(t.system, { subject: `staff_${randomUUID()}`, role: 'STAFF' });
    expect((await call(app, { method: 'GET', url: '/%61pi/staff/tenants', token: staff })).status).toBe(200);
  });

  it('replays an idempotent POST under another spelling instead of running it twice', async () => {
    const token = callers[1]?.token ?? null;
    const headers = { 'x-idempotency-key': `spelling-${randomUUID()}` };
    const first = await call(app, { method: 'POST', url: '/api/v1/stream-tokens', token, headers });
    expect(first.status).toBe(201);
    for (const url of ['/%61pi/v1/stream-tokens', '/api/v1/stream-tokens/', '/api/v1/%73tream-tokens']) {
      const again = await call(app, { method: 'POST', url, token, headers });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
    }
  });

  it('rate-limits encoded spellings on the same counter as the plain one', async () => {
    const limited = await startTestSystem({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const limitedApp = appOf(limited.system);
      const statuses: number[] = [];
      for (const url of [
        '/api/public/demo/services',
        '/%61pi/public/demo/services',
        '/api/public/demo/services/',
        '/ap%69/public/demo/services',
      ]) {
        statuses.push((await call(limitedApp, { method: 'GET', url })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await limited.stop();
    }
  });
});
