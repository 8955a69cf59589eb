import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, parseKeyring } from '../../../src/domain/token-encryption.ts';
import { buildTestApp, testConfig } from '../../helpers/app.ts';
import { devIssuerOf, settleOutbound, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';
import { webSignIn } from '../../helpers/web-session.ts';

// The web app's backend-for-frontend sign-in and its cookie: the same principal as a Bearer token,
// HttpOnly + SameSite=Strict, CSRF-checked on every state change (Origin and X-NMC-CSRF), ended by
// sign-out; Bearer tokens keep working for programs.

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${t.baseUrl}${path}`, init);

describe('web sign-in (OIDC code + PKCE through the dev issuer)', () => {
  it('gives the browser an HttpOnly, SameSite=Strict session cookie that reaches the API as the same principal', async () => {
    const { cookie, setCookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=TECH');
    const line = setCookie.find((c) => c.startsWith('nmc_session=')) ?? '';
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Strict/i);
    expect(line).toMatch(/Path=\//);
    // On localhost over http: not Secure (a browser would drop it); everywhere else __Host- and Secure.
    expect(line).not.toMatch(/Secure/i);

    const session = await api('/app/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ role: 'TECH', tenant: { slug: 'demo' } });
    const list = await api('/api/v1/conversations', { headers: { cookie } });
    expect(list.status).toBe(200);
    // A TECH's session is a TECH: what the role cannot do is refused.
    const users = await api('/api/v1/users', { headers: { cookie } });
    expect(users.status).toBe(403);
  });

  it('refuses a cookie-authenticated state change without the app origin and the custom header', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const mint = (headers: Record<string, string>) =>
      api('/api/v1/stream-tokens', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await mint({})).status).toBe(403);
    expect((await mint({ 'x-nmc-csrf': '1' })).status).toBe(403);
    expect((await mint({ 'x-nmc-csrf': '1', origin: 'https://evil.example' })).status).toBe(403);
    expect((await mint({ origin: t.baseUrl })).status).toBe(403);
    expect((await mint({ 'x-nmc-csrf': '1', origin: t.baseUrl })).status).toBe(201);
  });

  it('ends the session on sign-out, and an unknown cookie is 401', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const out = await api('/app/logout', {
      method: 'POST',
      headers: { cookie, origin: t.baseUrl, 'x-nmc-csrf': '1' },
    });
    expect(out.status).toBe(204);
    expect((await api('/api/v1/conversations', { headers: { cookie } })).status).toBe(401);
    expect((await api('/app/session', { headers: { cookie: 'nmc_session=forged' } })).status).toBe(401);
  });

  it('judges a request with an Authorization header by that header alone (programs keep Bearer tokens)', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const token = await tokenFor(t.system, { subject: 'web_bearer', role: 'TECH', org: 'org_demo' });
    expect(
      (await api('/api/v1/conversations', { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    // The OWNER's cookie does not lift a TECH token to OWNER.
    expect(
      (await api('/api/v1/users', { headers: { cookie, authorization: `Bearer ${token}` } })).status,
    ).toBe(403);
    expect(
      (await api('/api/v1/users', { headers: { cookie, authorization: 'Bearer nonsense' } })).status,
    ).toBe(401);
  });

  it('signs in platform staff with staff=1', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'staff=1');
    const session = await api('/app/session', { headers: { cookie } });
    expect(await session.json()).toMatchObject({ role: 'STAFF', tenant: null });
    expect((await api('/api/staff/tenants', { headers: { cookie } })).status).toBe(200);
  });

  it('refuses a callback whose state this browser was not given (login CSRF)', async () => {
    const start = await fetch(`${t.baseUrl}/app/dev-login?tenant=demo&role=OWNER`, { redirect: 'manual' });
    const authorize = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
    const callback = await fetch(authorize.headers.get('location') ?? '', {
      redirect: 'manual',
      headers: { cookie: 'nmc_login=someone-elses' },
    });
    expect(callback.status).toBe(401);
    expect(callback.headers.getSetCookie().some((c) => c.startsWith('nmc_session='))).toBe(false);
  });

  it('has no dev login and no phone simulator in production, even with a dev issuer at hand', async () => {
    const devIssuer = await devIssuerOf(t.system);
    const simulator = {
      phone: t.phone,
      traffic: { messages: () => [], onChange: () => () => undefined },
      businessNumber: '+15005550006',
    };
    for (const NODE_ENV of ['production', 'development']) {
      const { app } = await buildTestApp(t.system.db, {
        config: { ...testConfig(), NODE_ENV },
        auth: {
          verify: async () => ({}),
          orgClaim: 'org_id',
          roleClaim: 'org_role',
          staffOrgId: null,
          devIssuer,
        },
        phoneSimulator: simulator,
        keyring: parseKeyring(generateKey('t1')),
      });
      const login = await app.inject({ method: 'GET', url: '/app/dev-login?tenant=demo&role=OWNER' });
      const phone = await app.inject({ method: 'GET', url: '/app/phone/api/business' });
      if (NODE_ENV === 'production') {
        expect(login.statusCode).toBe(404);
        expect(phone.statusCode).toBe(404);
      } else {
        expect(login.statusCode).toBe(302);
        expect(phone.statusCode).toBe(200);
      }
      await app.close();
    }
  });
});
