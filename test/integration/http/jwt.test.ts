import { createPublicKey, type JsonWebKey, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { CLOCK_TOLERANCE_SECONDS, MAX_SUBJECT_LENGTH } from '../../../src/http/auth/token-verifier.ts';
import type { DevIssuer } from '../../../src/providers/auth/dev-issuer.ts';
import { devIssuerKeyFile, staffOrgOf } from '../../../src/providers/auth/operator-auth.ts';
import { appOf, call, devIssuerOf, errorOf, ROLE_CLAIM, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// Operator Bearer tokens against the running system: every way a token can be wrong gets the same
// 401 `unauthorized`, a valid one gets in, a valid one for an organisation without an account gets
// 403, and a user row appears in id_users the first time a subject is seen.

let t: TestSystem;
let app: App;
let issuer: DevIssuer;
let signingKey: CryptoKey;
let kid: string;
let publicJwk: JWK;
let orgClaim: string;
let roleClaim: string;

const INBOX = '/api/v1/conversations';
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  issuer = await devIssuerOf(t.system);
  // The same key file the running API's dev issuer signs with.
  const stored = JSON.parse(await readFile(devIssuerKeyFile(t.system.config), 'utf8')) as {
    kid: string;
    privateJwk: JWK;
    publicJwk: JWK;
  };
  kid = stored.kid;
  publicJwk = stored.publicJwk;
  signingKey = (await importJWK(stored.privateJwk, 'ES256')) as CryptoKey;
  orgClaim = t.system.config.AUTH_ORG_CLAIM;
  roleClaim = t.system.config.AUTH_ROLE_CLAIM;
  expect(issuer.jwks.keys.map((k) => k.kid)).toContain(kid);
});
afterAll(async () => {
  await t?.stop();
});

/** A payload that is valid in every respect; tests remove or override one claim at a time. */
function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: `user_${randomUUID()}`,
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    jti: randomUUID(),
    [orgClaim]: 'org_demo',
    [roleClaim]: ROLE_CLAIM.TECH,
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

function sign(
  claims: Record<string, unknown>,
  key: CryptoKey | Uint8Array = signingKey,
  header: { alg: string; kid?: string } = { alg: 'ES256', kid },
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ ...header, typ: 'JWT' }).sign(key);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function withPayload(token: string, edit: (payload: Record<string, unknown>) => void): string {
  const [header, payload, signature] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  edit(decoded);
  return `${header}.${b64url(decoded)}.${signature}`;
}

async function inbox(authorization?: string) {
  return call(app, {
    method: 'GET',
    url: INBOX,
    ...(authorization === undefined ? {} : { headers: { authorization } }),
  });
}

async function expectUnauthorized(authorization?: string) {
  const res = await inbox(authorization);
  expect(res.status, res.raw).toBe(401);
  expect(res.body).toEqual({
    error: { code: 'unauthorized', message: expect.any(String), correlation_id: expect.any(String) },
  });
  return errorOf(res);
}

describe('Bearer tokens on GET /api/v1/conversations', () => {
  it('accepts a valid token from the dev issuer (its own mint and a hand-built one)', async () => {
    const minted = await tokenFor(t.system, { subject: 'user_valid', role: 'TECH', org: 'org_demo' });
    expect((await inbox(`Bearer ${minted}`)).status).toBe(200);
    const built = await sign(validClaims());
    const res = await inbox(`Bearer ${built}`);
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toEqual({ items: expect.any(Array), next_cursor: null });
  });

  it('refuses a request without an Authorization header', async () => {
    await expectUnauthorized();
  });

  it('refuses garbage after Bearer, another scheme, and an empty Bearer', async () => {
    await expectUnauthorized('Bearer garbage');
    await expectUnauthorized('Bearer not.a.jwt');
    await expectUnauthorized('Bearer !!! spaces and symbols');
    await expectUnauthorized('Bearer ');
    const valid = await sign(validClaims());
    await expectUnauthorized(`Basic ${valid}`);
    await expectUnauthorized(valid);
  });

  it('refuses an unsecured token (alg: none, empty signature)', async () => {
    const claims = validClaims();
    await expectUnauthorized(`Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`);
    await expectUnauthorized(`Bearer ${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(claims)}.`);
    // A real signature on the original header, with the header switched to `none`.
    const real = await sign(claims);
    const [, payload, signature] = real.split('.');
    await expectUnauthorized(`Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`);
  });

  it("refuses HS256 signed with the issuer's public key as the HMAC secret (algorithm confusion)", async () => {
    const encoder = new TextEncoder();
    const pem = createPublicKey({
      key: publicJwk as JsonWebKey,
      format: 'jwk',
    })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const secrets = [
      JSON.stringify(publicJwk),
      JSON.stringify(issuer.jwks),
      String(publicJwk.x),
      String(publicJwk.y),
      `${publicJwk.x}${publicJwk.y}`,
      pem,
    ];
    for (const secret of secrets) {
      const token = await sign(validClaims(), encoder.encode(secret), { alg: 'HS256', kid });
      await expectUnauthorized(`Bearer ${token}`);
    }
  });

  it('refuses a wrong issuer', async () => {
    for (const iss of [
      'https://evil.example/dev-issuer',
      `${issuer.issuer}/`,
      'http://127.0.0.1:1/dev-issuer',
    ]) {
      await expectUnauthorized(`Bearer ${await sign(validClaims({ iss }))}`);
    }
    await expectUnauthorized(`Bearer ${await sign(validClaims({ iss: undefined }))}`);
  });

  it('refuses a wrong audience', async () => {
    await expectUnauthorized(`Bearer ${await sign(validClaims({ aud: 'some-other-app' }))}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ aud: ['some-other-app'] }))}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ aud: undefined }))}`);
  });

  it(`refuses a token expired beyond the ${CLOCK_TOLERANCE_SECONDS} s tolerance, accepts one within it`, async () => {
    const expired = validClaims({ iat: now() - 600, nbf: now() - 600, exp: now() - 120 });
    await expectUnauthorized(`Bearer ${await sign(expired)}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ exp: undefined }))}`);
    const justExpired = validClaims({ iat: now() - 600, nbf: now() - 600, exp: now() - 10 });
    expect((await inbox(`Bearer ${await sign(justExpired)}`)).status).toBe(200);
  });

  it('refuses a token that is not valid yet (nbf 2 min ahead)', async () => {
    await expectUnauthorized(`Bearer ${await sign(validClaims({ nbf: now() + 120 }))}`);
  });

  it('refuses a token signed by a key the JWKS does not have (unknown kid, and a known kid on a foreign key)', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    await expectUnauthorized(
      `Bearer ${await sign(validClaims(), privateKey, { alg: 'ES256', kid: randomUUID() })}`,
    );
    await expectUnauthorized(`Bearer ${await sign(validClaims(), privateKey, { alg: 'ES256', kid })}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims(), privateKey, { alg: 'ES256' })}`);
    // A foreign key that claims to be the issuer's, embedded in the header (jwk header injection).
    const foreignPublic = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    await expectUnauthorized(
      `Bearer ${await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'ES256', jwk: foreignPublic })
        .sign(privateKey)}`,
    );
  });

  it('refuses a valid token whose payload was edited (org, role, subject) with the signature kept', async () => {
    const valid = await sign(validClaims());
    expect((await inbox(`Bearer ${valid}`)).status).toBe(200);
    await expectUnauthorized(
      `Bearer ${withPayload(valid, (p) => {
        p[roleClaim] = ROLE_CLAIM.OWNER;
      })}`,
    );
    await expectUnauthorized(
      `Bearer ${withPayload(valid, (p) => {
        p[orgClaim] = 'org_other';
      })}`,
    );
    await expectUnauthorized(
      `Bearer ${withPayload(valid, (p) => {
        p.sub = 'someone_else';
      })}`,
    );
    await expectUnauthorized(
      `Bearer ${withPayload(valid, (p) => {
        p.exp = now() + 365 * 24 * 3600;
      })}`,
    );
  });

  it('refuses a token without a subject', async () => {
    await expectUnauthorized(`Bearer ${await sign(validClaims({ sub: undefined }))}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ sub: '' }))}`);
  });

  it('refuses a tenant role without an org claim (or an unusable one)', async () => {
    await expectUnauthorized(`Bearer ${await sign(validClaims({ [orgClaim]: undefined }))}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ [orgClaim]: '' }))}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ [orgClaim]: ['org_demo'] }))}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims({ [orgClaim]: 'o'.repeat(201) }))}`);
    const minted = await issuer.mint({ subject: 'user_no_org', role: ROLE_CLAIM.OWNER });
    await expectUnauthorized(`Bearer ${minted}`);
  });

  it('refuses an unknown or missing role claim', async () => {
    for (const role of ['org:guest', 'owner', 'ADMIN', 'root', 42, ['OWNER'], undefined]) {
      await expectUnauthorized(`Bearer ${await sign(validClaims({ [roleClaim]: role }))}`);
    }
  });

  it('gives every refusal the same message, so it tells an attacker nothing', async () => {
    const messages = new Set<string>();
    messages.add((await expectUnauthorized(`Bearer ${await sign(validClaims({ aud: 'x' }))}`)).message);
    messages.add(
      (await expectUnauthorized(`Bearer ${await sign(validClaims({ nbf: now() + 120 }))}`)).message,
    );
    messages.add(
      (await expectUnauthorized(`Bearer ${await sign(validClaims({ [roleClaim]: 'x' }))}`)).message,
    );
    messages.add(
      (await expectUnauthorized(`Bearer ${await sign(validClaims({ [orgClaim]: undefined }))}`)).message,
    );
    expect([...messages]).toHaveLength(1);
  });

  it('answers 403 forbidden to a valid token of an organisation without an account, and records no user', async () => {
    const subject = `user_${randomUUID()}`;
    const token = await tokenFor(t.system, { subject, role: 'OWNER', org: 'org_nobody_here' });
    const res = await inbox(`Bearer ${token}`);
    expect(res.status, res.raw).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
    const { rows } = await t.system.db.query('SELECT 1 FROM id_users WHERE auth_subject = $1', [subject]);
    expect(rows).toHaveLength(0);
  });
});

describe('users on first sight', () => {
  async function usersOf(subject: string) {
    const { rows } = await t.system.db.query<{
      tenant_id: string;
      role: string;
      email: string | null;
      created_at: Date;
      last_seen_at: Date;
    }>('SELECT tenant_id, role, email, created_at, last_seen_at FROM id_users WHERE auth_subject = $1', [
      subject,
    ]);
    return rows;
  }

  it('creates the user in id_users the first time, with the token role and email, then refreshes last_seen_at at most once a minute', async () => {
    const subject = `user_${randomUUID()}`;
    expect(await usersOf(subject)).toHaveLength(0);
    const token = await tokenFor(t.system, {
      subject,
      role: 'TECH',
      org: 'org_demo',
      email: 'tech@demo.example',
    });
    expect((await inbox(`Bearer ${token}`)).status).toBe(200);
    const [first, ...others] = await usersOf(subject);
    expect(others).toHaveLength(0);
    expect(first).toMatchObject({ tenant_id: t.demo.id, role: 'TECH', email: 'tech@demo.example' });

    // Within a minute a request reads the user and writes nothing.
    expect((await inbox(`Bearer ${token}`)).status).toBe(200);
    const same = await usersOf(subject);
    expect(same).toHaveLength(1);
    expect(same[0]?.last_seen_at.getTime()).toBe(first?.last_seen_at.getTime());

    // Later, last_seen_at is refreshed on the same row.
    await t.system.db.query(
      "UPDATE id_users SET last_seen_at = now() - interval '2 minutes' WHERE auth_subject = $1",
      [subject],
    );
    expect((await inbox(`Bearer ${token}`)).status).toBe(200);
    const again = await usersOf(subject);
    expect(again).toHaveLength(1);
    expect(again[0]?.created_at.getTime()).toBe(first?.created_at.getTime());
    expect(again[0]?.last_seen_at.getTime()).toBeGreaterThan(first?.last_seen_at.getTime() ?? 0);
  });

  it('creates one row when a new subject sends requests at once', async () => {
    const subject = `user_${randomUUID()}`;
    const token = await tokenFor(t.system, { subject, role: 'OWNER', org: 'org_demo' });
    const statuses = await Promise.all(
      Array.from({ length: 5 }, async () => (await inbox(`Bearer ${token}`)).status),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await usersOf(subject)).toHaveLength(1);
  });

  it('records no user for STAFF, who belongs to no tenant', async () => {
    const subject = `staff_${randomUUID()}`;
    const token = await tokenFor(t.system, { subject, role: 'STAFF' });
    const res = await inbox(`Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(await usersOf(subject)).toHaveLength(0);
  });

  it('uses the lesser of the token role and the stored role (an OWNER demoted here is a TECH)', async () => {
    const subject = `user_${randomUUID()}`;
    const token = await tokenFor(t.system, { subject, role: 'OWNER', org: 'org_demo' });
    const users = { method: 'GET', url: '/api/v1/users', token };
    expect((await call(app, users)).status).toBe(200);
    await t.system.db.query("UPDATE id_users SET role = 'TECH' WHERE auth_subject = $1", [subject]);
    const res = await call(app, users);
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
    // Still a TECH: the inbox is open to it.
    expect((await inbox(`Bearer ${token}`)).status).toBe(200);
  });
});

describe('STAFF is membership in the platform organisation, never a role claim', () => {
  const STAFF_API = '/api/staff/tenants';
  const staffOrg = () => staffOrgOf(t.system.config);

  it('refuses a STAFF role claim inside a tenant organisation on the staff API and the tenant API', async () => {
    for (const role of ['STAFF', 'staff', 'org:staff']) {
      const token = await sign(validClaims({ [orgClaim]: 'org_demo', [roleClaim]: role }));
      const staff = await call(app, { method: 'GET', url: STAFF_API, token });
      expect(staff.status, staff.raw).toBe(401);
      await expectUnauthorized(`Bearer ${token}`);
    }
  });

  it('gives an OWNER of a tenant no platform powers, whatever else the token says', async () => {
    const token = await sign(validClaims({ [roleClaim]: ROLE_CLAIM.OWNER, staff: true, role: 'STAFF' }));
    expect((await call(app, { method: 'GET', url: STAFF_API, token })).status).toBe(403);
  });

  it('makes any member of the platform organisation STAFF, and STAFF only', async () => {
    for (const role of ['org:member', 'org:admin']) {
      const token = await sign(validClaims({ [orgClaim]: staffOrg(), [roleClaim]: role }));
      expect((await call(app, { method: 'GET', url: STAFF_API, token })).status).toBe(200);
      expect((await inbox(`Bearer ${token}`)).status).toBe(403);
    }
  });
});

describe('token age', () => {
  const maxAge = () => t.system.config.AUTH_MAX_TOKEN_AGE_SECONDS;

  it(`refuses a token issued more than ${CLOCK_TOLERANCE_SECONDS} s in the future, accepts one within it`, async () => {
    await expectUnauthorized(`Bearer ${await sign(validClaims({ iat: now() + 120, nbf: undefined }))}`);
    await expectUnauthorized(
      `Bearer ${await sign(validClaims({ iat: now() + 10 * 365 * 86_400, nbf: undefined }))}`,
    );
    const near = await sign(validClaims({ iat: now() + 5, nbf: undefined }));
    expect((await inbox(`Bearer ${near}`)).status).toBe(200);
  });

  it('refuses a token older than AUTH_MAX_TOKEN_AGE_SECONDS by its iat, even when exp is far away', async () => {
    expect(maxAge()).toBe(86_400);
    const old = await sign(validClaims({ iat: now() - maxAge() - 120, nbf: undefined, exp: now() + 3600 }));
    await expectUnauthorized(`Bearer ${old}`);
    const young = await sign(validClaims({ iat: now() - maxAge() + 120, nbf: undefined, exp: now() + 3600 }));
    expect((await inbox(`Bearer ${young}`)).status).toBe(200);
  });

  it(`refuses a subject longer than ${MAX_SUBJECT_LENGTH} characters`, async () => {
    await expectUnauthorized(
      `Bearer ${await sign(validClaims({ sub: 'u'.repeat(MAX_SUBJECT_LENGTH + 1) }))}`,
    );
    const longest = await sign(validClaims({ sub: 'u'.repeat(MAX_SUBJECT_LENGTH) }));
    expect((await inbox(`Bearer ${longest}`)).status).toBe(200);
  });
});
