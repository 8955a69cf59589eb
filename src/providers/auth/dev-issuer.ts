import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

// The local stand-in for the production identity provider (Clerk): an ES256 key pair kept in the
// data directory (so `npm run nmc -- token` in another process signs with the same key), a JWKS the
// API verifies against exactly as it would a remote one, and a way to mint operator tokens.
// It is off whenever real AUTH_* settings are given.
//
// For the web app's sign-in it also plays a minimal OpenID provider (authorization code with PKCE
// S256 only, public client): `authorize` hands out a single-use code for a login chosen by a hint
// (dev login has no password: it exists only with the dev issuer, never in production), and
// `redeem` exchanges it for an access token (the same kind `mint` makes), an ID token and a refresh
// token; `refresh` trades a refresh token for new tokens (rotating it: each is good once), and
// `revoke` withdraws one. Codes (60 s) and refresh tokens (7 days) live in this
// process's memory: enough for one process on a laptop, which is all it serves.

export const DEV_AUDIENCE = 'nevermisscall';
export const DEV_ALGORITHM = 'ES256';

export type DevIssuer = {
  issuer: string;
  audience: string;
  jwks: { keys: JWK[] };
  mint(
    claims: { subject: string; org?: string | null; role: string; email?: string },
    options?: { expiresIn?: string },
  ): Promise<string>;
  /** A single-use authorization code for this login, bound to the client, redirect and PKCE challenge. */
  authorize(request: AuthorizationRequest): string;
  /** The tokens for a code, or null when the code, client, redirect or PKCE verifier does not match. */
  redeem(request: {
    code: string;
    clientId: string;
    redirectUri: string;
    codeVerifier: string;
  }): Promise<DevTokenResponse | null>;
  /** New tokens for a refresh token issued to this client (the old one is spent), or null. */
  refresh(request: { refreshToken: string; clientId: string }): Promise<DevRefreshResponse | null>;
  /** Withdraws a refresh token (RFC 7009: an unknown token is not an error). */
  revoke(request: { token: string; clientId: string }): void;
};

export type DevLogin = { subject: string; org: string; role: string; email: string };

export type AuthorizationRequest = {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
  login: DevLogin;
};

export type DevTokenResponse = {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  id_token: string;
  refresh_token: string;
  scope: 'openid';
};

export type DevRefreshResponse = Omit<DevTokenResponse, 'id_token'>;

const CODE_TTL_MS = 60_000;
const ACCESS_TOKEN_SECONDS = 8 * 3600;
const REFRESH_TOKEN_MS = 7 * 24 * 3600_000;

type StoredKey = { kid: string; privateJwk: JWK; publicJwk: JWK };

async function loadOrCreateKey(file: string): Promise<StoredKey> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as StoredKey;
  const { privateKey, publicKey } = await generateKeyPair(DEV_ALGORITHM, { extractable: true });
  const kid = randomUUID();
  const stored: StoredKey = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: DEV_ALGORITHM },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: DEV_ALGORITHM, use: 'sig' },
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
  return stored;
}

export async function openDevIssuer(options: {
  keyFile: string;
  issuer: string;
  orgClaim: string;
  roleClaim: string;
}): Promise<DevIssuer> {
  const key = await loadOrCreateKey(options.keyFile);
  const privateKey = await importJWK(key.privateJwk, DEV_ALGORITHM);
  const codes = new Map<string, AuthorizationRequest & { expires: number }>();
  const refreshTokens = new Map<string, { clientId: string; login: DevLogin; expires: number }>();
  const issueRefreshToken = (clientId: string, login: DevLogin) => {
    const now = Date.now();
    for (const [token, entry] of refreshTokens) if (entry.expires < now) refreshTokens.delete(token);
    const token = randomBytes(32).toString('base64url');
    refreshTokens.set(token, { clientId, login, expires: now + REFRESH_TOKEN_MS });
    return token;
  };
  const accessTokenFor = (login: DevLogin) =>
    issuer.mint(
      { subject: login.subject, org: login.org, role: login.role, email: login.email },
      { expiresIn: `${ACCESS_TOKEN_SECONDS}s` },
    );
  const sign = (payload: Record<string, unknown>, subject: string, audience: string, expiresIn: string) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: DEV_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setIssuer(options.issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(expiresIn)
      .setJti(randomUUID())
      .sign(privateKey);
  const issuer: DevIssuer = {
    issuer: options.issuer,
    audience: DEV_AUDIENCE,
    jwks: { keys: [key.publicJwk] },
    async mint(claims, mintOptions = {}) {
      const payload: Record<string, unknown> = { [options.roleClaim]: claims.role };
      if (claims.org) payload[options.orgClaim] = claims.org;
      if (claims.email) payload.email = claims.email;
      return sign(payload, claims.subject, DEV_AUDIENCE, mintOptions.expiresIn ?? '8h');
    },
    authorize(request) {
      const now = Date.now();
      for (const [code, entry] of codes) if (entry.expires < now) codes.delete(code);
      const code = randomBytes(32).toString('base64url');
      codes.set(code, { ...request, expires: now + CODE_TTL_MS });
      return code;
    },
    async redeem({ code, clientId, redirectUri, codeVerifier }) {
      const entry = codes.get(code);
      codes.delete(code);
      if (!entry || entry.expires < Date.now()) return null;
      const challenge = createHash('sha256').update(codeVerifier).digest('base64url');
      if (
        entry.clientId !== clientId ||
        entry.redirectUri !== redirectUri ||
        entry.codeChallenge !== challenge
      )
        return null;
      const { login } = entry;
      const accessToken = await accessTokenFor(login);
      const idToken = await sign(
        { email: login.email, ...(entry.nonce ? { nonce: entry.nonce } : {}) },
        login.subject,
        clientId,
        '10m',
      );
      return {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: ACCESS_TOKEN_SECONDS,
        id_token: idToken,
        refresh_token: issueRefreshToken(clientId, login),
        scope: 'openid',
      };
    },
    async refresh({ refreshToken, clientId }) {
      const entry = refreshTokens.get(refreshToken);
      refreshTokens.delete(refreshToken);
      if (!entry || entry.expires < Date.now() || entry.clientId !== clientId) return null;
      return {
        access_token: await accessTokenFor(entry.login),
        token_type: 'Bearer',
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token: issueRefreshToken(clientId, entry.login),
        scope: 'openid',
      };
    },
    revoke({ token, clientId }) {
      if (refreshTokens.get(token)?.clientId === clientId) refreshTokens.delete(token);
    },
  };
  return issuer;
}
