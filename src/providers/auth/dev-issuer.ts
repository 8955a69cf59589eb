import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

// The local stand-in for the production identity provider (Clerk): an ES256 key pair kept in the
// data directory (so `npm run nmc -- token` in another process signs with the same key), a JWKS the
// API verifies against exactly as it would a remote one, and a way to mint operator tokens.
// It is off whenever real AUTH_* settings are given.

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
};

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
  return {
    issuer: options.issuer,
    audience: DEV_AUDIENCE,
    jwks: { keys: [key.publicJwk] },
    async mint(claims, mintOptions = {}) {
      const payload: Record<string, unknown> = { [options.roleClaim]: claims.role };
      if (claims.org) payload[options.orgClaim] = claims.org;
      if (claims.email) payload.email = claims.email;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: DEV_ALGORITHM, kid: key.kid, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(DEV_AUDIENCE)
        .setSubject(claims.subject)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime(mintOptions.expiresIn ?? '8h')
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
