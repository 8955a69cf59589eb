import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../domain/errors.ts';

// Serves the built web app (web/dist, see src/web-build.ts) under /app: the hashed assets with a
// year's immutable caching, and for every other /app path the HTML shell (the app routes in the
// browser) with the security headers below. The shell is never cached, so a new build is picked
// up on the next load.

const SHELL_HEADERS: Record<string, string> = {
  // No inline script anywhere (Vite emits external module scripts), no framing, no plugins.
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cache-control': 'no-cache',
};

const NOT_BUILT =
  '<!doctype html><meta charset="utf-8"><title>NeverMissCall</title><p>The web app is not built. ' +
  '<code>npm start</code> builds it when web/ changes; <code>npm run build:web</code> builds it now.</p>';

/**
 * The app's pages (the browser routes them; web/src/app.tsx). Named one by one rather than a
 * catch-all, so any other path under /app is a 404 and no spelling of a server route reaches the shell.
 */
const CLIENT_ROUTES = [
  '/app',
  '/app/conversations/:id',
  '/app/calendar',
  '/app/dashboard',
  '/app/settings',
  '/app/settings/:section',
  '/app/staff',
  '/app/staff/:section',
  '/app/phone',
  '/app/portal',
  '/app/onboarding',
];
/** The app's page paths as written: lower-case segments (names and ids). */
const CLIENT_PATH = /^\/app(\/[a-z0-9-]+)*$/;

export function webAppRoutes(options: { dist: string }): FastifyPluginAsyncZod {
  return async (app) => {
    const shellFile = join(options.dist, 'index.html');
    const shell = existsSync(shellFile) ? readFileSync(shellFile, 'utf8') : null;
    app.addHook('onSend', async (_request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
    });
    const assets = join(options.dist, 'assets');
    if (existsSync(assets)) {
      await app.register(fastifyStatic, {
        root: assets,
        prefix: '/app/assets/',
        decorateReply: false,
        index: false,
        // File names carry their content hash: a changed file is a new URL.
        immutable: true,
        maxAge: '365d',
      });
    }
    const sendShell = async (request: FastifyRequest, reply: FastifyReply) => {
      // An encoded or upper-case spelling of a page is a 404, like every other route's.
      const path = request.url.split('?')[0] ?? '';
      if (!CLIENT_PATH.test(path))
        throw new AppError('not_found', `route ${request.method} ${path} not found`);
      return reply
        .headers(SHELL_HEADERS)
        .type('text/html; charset=utf-8')
        .code(shell ? 200 : 503)
        .send(shell ?? NOT_BUILT);
    };
    for (const path of CLIENT_ROUTES) app.get(path, { schema: { hide: true } }, sendShell);
  };
}
