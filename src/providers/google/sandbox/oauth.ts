import { createHash, randomBytes } from 'node:crypto';

// The sandbox's OAuth 2.0 authorization server, the three endpoints Google's own library calls:
// consent (`/o/oauth2/v2/auth`, answered at once as if the account owner clicked Allow), the token
// endpoint (`/token`: authorization_code with PKCE S256, and refresh_token) and `/revoke`.
// Codes are single use and expire after 10 minutes; a revoked refresh token takes its access tokens
// with it. A test may make the next consent a refusal (`denyNextConsent`).

const CODE_TTL_MS = 10 * 60_000;
const ACCESS_TTL_SECONDS = 3_599;

type Grant = { scope: string; refreshToken: string };
type PendingCode = {
  clientId: string;
  redirectUri: string;
  scope: string;
  challenge: string | null;
  expiresAt: number;
};

export type OAuthAnswer =
  | { kind: 'redirect'; location: string }
  | { kind: 'json'; status: number; body: unknown };

function token(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

const oauthError = (status: number, error: string, description: string): OAuthAnswer => ({
  kind: 'json',
  status,
  body: { error, error_description: description },
});

export function createOAuthServer(options: { clientId: string; clientSecret: string }) {
  const codes = new Map<string, PendingCode>();
  const refreshTokens = new Map<string, Grant>();
  const accessTokens = new Map<string, { refreshToken: string; expiresAt: number }>();
  let denyNext = 0;
  const consents: Array<{ scope: string; accessType: string | null; prompt: string | null }> = [];

  function issueAccess(refreshToken: string): string {
    const access = token('ya29.sandbox-');
    accessTokens.set(access, { refreshToken, expiresAt: Date.now() + ACCESS_TTL_SECONDS * 1000 });
    return access;
  }

  function authorize(query: URLSearchParams): OAuthAnswer {
    const clientId = query.get('client_id');
    const redirectUri = query.get('redirect_uri');
    if (clientId !== options.clientId || !redirectUri) {
      return oauthError(400, 'invalid_request', 'Missing or unknown client_id or redirect_uri.');
    }
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state);
    consents.push({
      scope: query.get('scope') ?? '',
      accessType: query.get('access_type'),
      prompt: query.get('prompt'),
    });
    if (denyNext > 0) {
      denyNext -= 1;
      back.searchParams.set('error', 'access_denied');
      return { kind: 'redirect', location: back.toString() };
    }
    const method = query.get('code_challenge_method');
    const challenge = query.get('code_challenge');
    if (challenge !== null && method !== 'S256') {
      return oauthError(400, 'invalid_request', 'Only code_challenge_method=S256 is supported.');
    }
    const code = token('4/sandbox-');
    codes.set(code, {
      clientId,
      redirectUri,
      scope: query.get('scope') ?? '',
      challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    back.searchParams.set('code', code);
    back.searchParams.set('scope', query.get('scope') ?? '');
    return { kind: 'redirect', location: back.toString() };
  }

  function exchange(form: URLSearchParams): OAuthAnswer {
    if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
      return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const pending = codes.get(code);
      codes.delete(code);
      if (!pending || pending.expiresAt < Date.now()) return oauthError(400, 'invalid_grant', 'Bad Request');
      if (pending.redirectUri !== form.get('redirect_uri')) {
        return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
      }
      if (pending.challenge !== null) {
        const verifier = form.get('code_verifier');
        if (!verifier || s256(verifier) !== pending.challenge) {
          return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
        }
      }
      const refreshToken = token('1//sandbox-');
      refreshTokens.set(refreshToken, { scope: pending.scope, refreshToken });
      return {
        kind: 'json',
        status: 200,
        body: {
          access_token: issueAccess(refreshToken),
          expires_in: ACCESS_TTL_SECONDS,
          refresh_token: refreshToken,
          scope: pending.scope,
          token_type: 'Bearer',
        },
      };
    }
    if (grantType === 'refresh_token') {
      const grant = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!grant) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      return {
        kind: 'json',
        status: 200,
        body: {
          access_token: issueAccess(grant.refreshToken),
          expires_in: ACCESS_TTL_SECONDS,
          scope: grant.scope,
          token_type: 'Bearer',
        },
      };
    }
    return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type.');
  }

  function revoke(value: string): OAuthAnswer {
    const access = accessTokens.get(value);
    const refreshToken = refreshTokens.has(value) ? value : access?.refreshToken;
    if (refreshToken === undefined) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    refreshTokens.delete(refreshToken);
    for (const [key, entry] of accessTokens)
      if (entry.refreshToken === refreshToken) accessTokens.delete(key);
    return { kind: 'json', status: 200, body: {} };
  }

  return {
    authorize,
    exchange,
    revoke,
    /** True when `header` is `Bearer <a live access token>`. */
    authenticated(header: string | undefined): boolean {
      if (!header?.startsWith('Bearer ')) return false;
      const entry = accessTokens.get(header.slice('Bearer '.length).trim());
      return entry !== undefined && entry.expiresAt > Date.now() && refreshTokens.has(entry.refreshToken);
    },
    denyNextConsent(count = 1) {
      denyNext += count;
    },
    /** What each consent request asked for (scopes, offline access, prompt). */
    consents: () => [...consents],
    liveRefreshTokens: () => [...refreshTokens.keys()],
    /** Ends every access token now, as an hour passing would (refresh tokens stay). */
    expireAccessTokens() {
      accessTokens.clear();
    },
    reset() {
      codes.clear();
      refreshTokens.clear();
      accessTokens.clear();
      consents.length = 0;
      denyNext = 0;
    },
  };
}
