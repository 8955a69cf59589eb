import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import type { DevIssuer, DevLogin } from '../../providers/auth/dev-issuer.ts';

// The dev issuer's OpenID endpoints (local runs only; never in production, where the dev issuer
// refuses to start): discovery, JWKS, an authorization endpoint that signs in the login named by
// `login_hint` without a password, and the token endpoint. The web app's sign-in reaches them
// through the same OIDC client library it uses against the real identity provider.
//
// login_hint: `<org>:<OWNER|TECH>` for a tenant user, or `staff` for a platform member.

export const DEV_WEB_CLIENT_ID = 'nmc-web';

export function devLoginFromHint(hint: string, staffOrgId: string | null): DevLogin | null {
  if (hint === 'staff') {
    if (!staffOrgId) return null;
    return { subject: 'dev_staff', org: staffOrgId, role: 'member', email: 'staff@platform.dev' };
  }
  const match = /^([A-Za-z0-9_-]{1,200}):(OWNER|TECH)$/.exec(hint);
  if (!match?.[1] || !match[2]) return null;
  const [org, role] = [match[1], match[2]];
  const name = role.toLowerCase();
  return { subject: `dev_${name}_${org}`, org, role, email: `${name}@${org}.dev` };
}

export function devIssuerRoutes(deps: {
  devIssuer: DevIssuer;
  staffOrgId: string | null;
  publicBaseUrl: string;
}): FastifyPluginAsyncZod {
  const { devIssuer } = deps;
  const base = devIssuer.issuer;
  return async (app) => {
    app.get('/dev-issuer/.well-known/jwks.json', { schema: { hide: true } }, async () => devIssuer.jwks);

    app.get('/dev-issuer/.well-known/openid-configuration', { schema: { hide: true } }, async () => ({
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      revocation_endpoint: `${base}/revoke`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid', 'email'],
    }));

    app.get(
      '/dev-issuer/authorize',
      {
        schema: {
          hide: true,
          querystring: z.object({
            client_id: z.literal(DEV_WEB_CLIENT_ID),
            redirect_uri: z.url(),
            response_type: z.literal('code'),
            code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
            code_challenge_method: z.literal('S256'),
            state: z.string().min(1).max(200),
            nonce: z.string().min(1).max(200).optional(),
            scope: z.string().optional(),
            login_hint: z.string().max(300).optional(),
          }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        // Codes go only to the web app's own callback on this server.
        if (!q.redirect_uri.startsWith(`${deps.publicBaseUrl}/app/`))
          throw new AppError('validation_failed', 'redirect_uri is not this server’s web app');
        const login = q.login_hint ? devLoginFromHint(q.login_hint, deps.staffOrgId) : null;
        if (!login)
          throw new AppError(
            'validation_failed',
            'the dev issuer signs in only the login named by login_hint; open /app/dev-login?tenant=demo&role=OWNER',
          );
        const code = devIssuer.authorize({
          clientId: q.client_id,
          redirectUri: q.redirect_uri,
          codeChallenge: q.code_challenge,
          nonce: q.nonce ?? null,
          login,
        });
        const target = new URL(q.redirect_uri);
        target.searchParams.set('code', code);
        target.searchParams.set('state', q.state);
        target.searchParams.set('iss', base);
        return reply.redirect(target.href, 302);
      },
    );

    app.post(
      '/dev-issuer/token',
      {
        schema: {
          hide: true,
          body: z.discriminatedUnion('grant_type', [
            z.object({
              grant_type: z.literal('authorization_code'),
              code: z.string().min(1).max(200),
              redirect_uri: z.string().min(1).max(2000),
              client_id: z.string().min(1).max(200),
              code_verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/),
            }),
            z.object({
              grant_type: z.literal('refresh_token'),
              refresh_token: z.string().min(1).max(200),
              client_id: z.string().min(1).max(200),
            }),
          ]),
        },
      },
      async (request, reply) => {
        const b = request.body;
        const tokens =
          b.grant_type === 'refresh_token'
            ? await devIssuer.refresh({ refreshToken: b.refresh_token, clientId: b.client_id })
            : await devIssuer.redeem({
                code: b.code,
                clientId: b.client_id,
                redirectUri: b.redirect_uri,
                codeVerifier: b.code_verifier,
              });
        reply.header('cache-control', 'no-store');
        if (!tokens) return reply.code(400).send({ error: 'invalid_grant' });
        return tokens;
      },
    );

    app.post(
      '/dev-issuer/revoke',
      {
        schema: {
          hide: true,
          body: z.object({
            token: z.string().min(1).max(200),
            token_type_hint: z.string().max(50).optional(),
            client_id: z.string().min(1).max(200),
          }),
        },
      },
      async (request, reply) => {
        devIssuer.revoke({ token: request.body.token, clientId: request.body.client_id });
        return reply.code(200).send();
      },
    );
  };
}
