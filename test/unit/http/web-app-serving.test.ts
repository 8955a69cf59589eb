import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandling } from '../../../src/http/error-handler.ts';
import { webAppRoutes } from '../../../src/http/web/web-app-routes.ts';

// How the web app is served: the HTML shell with its security headers on every page path, the
// hashed assets with a year's immutable caching, and a 404 for anything else under /app.

let dist: string;
let app: FastifyInstance;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'nmc-web-'));
  await mkdir(join(dist, 'assets'));
  await writeFile(
    join(dist, 'index.html'),
    '<!doctype html><script type="module" src="/app/assets/index-abc123.js"></script>',
  );
  await writeFile(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  app = Fastify();
  registerErrorHandling(app as never);
  await app.register(webAppRoutes({ dist }));
});
afterAll(async () => {
  await app?.close();
  await rm(dist, { recursive: true, force: true });
});

describe('the web app shell and assets', () => {
  it('serves the shell on page paths with a CSP that allows no inline script and no framing', async () => {
    for (const url of [
      '/app',
      '/app/calendar',
      '/app/portal',
      '/app/conversations/0b9f5c1e-6a8e-4c39-9a4e-2f4f4f7f0e11',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets with immutable, year-long caching', async () => {
    const res = await app.inject({ method: 'GET', url: '/app/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.headers['cache-control']).toContain('max-age=31536000');
  });

  it('answers 404 for what is not a page or an asset', async () => {
    for (const url of ['/app/assets/missing.js', '/app/nothing-here', '/app/Calendar', '/app/%63alendar']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
  });
});
