import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { findTenantById, findTenantBySlug } from '../../persistence/repositories/tenants.ts';
import {
  consumeWebLogin,
  deleteWebSession,
  insertWebLogin,
} from '../../persistence/repositories/web-sessions.ts';
import type { AppDeps } from '../app.ts';
import { authenticate } from '../auth/authenticate.ts';
import type { OidcClient } from './oidc-client.ts';
import {
  checkCsrf,
  hashBrowserSecret,
  LOGIN_COOKIE,
  newBrowserSecret,
  type WebSessionSettings,
} from './session-cookie.ts';
import type { WebSessionStore } from './web-session-store.ts';

// The backend-for-frontend's sign-in: /app/login sends the browser to the identity provider
// (authorization code + PKCE), /app/callback exchanges the code on the server, keeps the tokens in
// `id_web_sessions` (sealed, src/http/web/web-session-store.ts) and gives the browser only an
// HttpOnly session cookie; /app/logout ends it; /app/session tells the app who is signed in.
// /app/dev-login signs in a chosen demo login (or, with ?new=1, the admin of a brand-new
// organisation, to try onboarding) through the dev issuer, and exists only with the dev issuer
// outside production.

const LOGIN_TTL_SECONDS = 600;
const returnTo = z
  .string()
  .max(500)
  .regex(/^\/app(\/[A-Za-z0-9/_-]*)?$/, 'must be a path of the web app')
  .optional();

export type SignInDeps = {
  app: AppDeps;
  oidc: OidcClient | null;
  /** Where sessions keep their tokens; null (no keyring) leaves web sign-in unavailable. */
  sessions: WebSessionStore | null;
  session: WebSessionSettings;
  /** Present only with the dev issuer outside production. */
  devLogin: { staffOrgId: string | null } | null;
  /** Whether /app/phone is served (the Twilio sandbox, outside production). */
  phoneSimulator: boolean;
};

export function signInRoutes(deps: SignInDeps): FastifyPluginAsyncZod {
  const { db } = deps.app;
  const base = deps.app.config.PUBLIC_BASE_URL;
  return async (app) => {
    async function redirectToProvider(reply: FastifyReply, target: string, loginHint?: string) {
      if (!deps.oidc || !deps.sessions)
        throw new AppError('unavailable', 'web sign-in is not configured (AUTH_WEB_CLIENT_ID is unset)');
      const start = await deps.oidc.start(loginHint ? { loginHint } : {});
      await insertWebLogin(db, {
        stateHash: hashBrowserSecret(start.state),
        codeVerifier: start.codeVerifier,
        nonce: start.nonce,
        returnTo: target,
        ttlSeconds: LOGIN_TTL_SECONDS,
      });
      // Lax, not Strict: the identity provider's redirect back is a cross-site navigation.
      reply.setCookie(LOGIN_COOKIE, start.state, {
        path: '/app/callback',
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.session.secure,
        maxAge: LOGIN_TTL_SECONDS,
      });
      return reply.header('cache-control', 'no-store').redirect(start.url, 302);
    }

    app.get(
      '/app/login',
      { schema: { hide: true, querystring: z.object({ return_to: returnTo }) } },
      async (request, reply) => redirectToProvider(reply, request.query.return_to ?? '/app'),
    );

    const devLogin = deps.devLogin;
    if (devLogin) {
      app.get(
        '/app/dev-login',
        {
          schema: {
            hide: true,
            querystring: z.object({
              tenant: z.string().min(1).max(100).optional(),
              role: z.enum(['OWNER', 'TECH']).default('OWNER'),
              staff: z.enum(['1', 'true']).optional(),
              // An admin of a brand-new organisation (no tenant): the self-serve onboarding wizard.
              new: z.enum(['1', 'true']).optional(),
              return_to: returnTo,
            }),
          },
        },
        async (request, reply) => {
          const q = request.query;
          if (q.staff) return redirectToProvider(reply, q.return_to ?? '/app/staff', 'staff');
          if (q.new) {
            const org = `org_new_${randomBytes(6).toString('hex')}`;
            return redirectToProvider(reply, q.return_to ?? '/app/onboarding', `${org}:OWNER`);
          }
          const tenant = await findTenantBySlug(db, q.tenant ?? 'demo');
          if (!tenant?.auth_org_id) throw new AppError('not_found', 'no tenant with that slug');
          return redirectToProvider(reply, q.return_to ?? '/app', `${tenant.auth_org_id}:${q.role}`);
        },
      );
    }

    app.get(
      '/app/callback',
      {
        schema: {
          hide: true,
          querystring: z.looseObject({ state: z.string().min(1).max(200), code: z.string().optional() }),
        },
      },
      async (request, reply) => {
        if (!deps.oidc || !deps.sessions) throw new AppError('unavailable', 'web sign-in is not configured');
        const state = request.query.state;
        // The state must be the one this browser was given (no login CSRF), and spent once.
        if (request.cookies[LOGIN_COOKIE] !== state)
          throw new AppError('unauthorized', 'this sign-in was not started in this browser');
        const login = await consumeWebLogin(db, hashBrowserSecret(state));
        if (!login) throw new AppError('unauthorized', 'this sign-in has expired; start again');
        const tokens = await deps.oidc.finish(new URL(request.url, base), {
          state,
          codeVerifier: login.code_verifier,
          nonce: login.nonce,
        });
        // The token must be one the API accepts, exactly as a Bearer token would be.
        const claims = await deps.app.auth.verify(tokens.accessToken);
        const secret = newBrowserSecret();
        const expiresAt = await deps.sessions.create({
          sessionHash: hashBrowserSecret(secret),
          subject: claims.sub ?? '',
          tokens,
          accessExpiresAt: new Date((claims.exp ?? 0) * 1000),
        });
        reply.clearCookie(LOGIN_COOKIE, { path: '/app/callback' });
        reply.setCookie(deps.session.cookieName, secret, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: deps.session.secure,
          expires: expiresAt,
        });
        // A page that moves on by itself rather than a redirect: after a cross-site redirect chain
        // the browser would not send a Strict cookie on the next request, and the app would show
        // "signed out" once.
        return reply
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(
            `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${login.return_to}"><title>Signing in…</title><a href="${login.return_to}">Continue</a>`,
          );
      },
    );

    app.post('/app/logout', { schema: { hide: true } }, async (request, reply) => {
      checkCsrf(request, deps.session);
      const secret = request.cookies[deps.session.cookieName];
      if (secret) {
        const sessionHash = hashBrowserSecret(secret);
        if (deps.sessions) await deps.sessions.end(sessionHash);
        else await deleteWebSession(db, sessionHash);
      }
      reply.clearCookie(deps.session.cookieName, { path: '/' });
      return reply.code(204).send();
    });

    app.get('/app/session', { schema: { hide: true } }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const principal = await authenticate(request, {
        db,
        ...deps.app.auth,
        webSession: deps.session,
        ...(deps.sessions ? { sessionAccessToken: deps.sessions.accessToken } : {}),
      });
      const tenant = principal.tenantId ? await findTenantById(db, principal.tenantId) : null;
      return {
        subject: principal.subject,
        role: principal.role,
        user_id: principal.userId,
        // The admin of an organisation with no tenant yet: the app shows only the onboarding wizard.
        onboarding: principal.onboardingOrg !== undefined,
        tenant: tenant
          ? { id: tenant.id, slug: tenant.slug, name: tenant.name, time_zone: tenant.time_zone }
          : null,
        phone_simulator: deps.phoneSimulator,
      };
    });
  };
}
