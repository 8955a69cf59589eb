import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from '../../../src/domain/token-encryption.ts';
import { DEV_WEB_CLIENT_ID } from '../../../src/http/routes/dev-issuer.ts';
import { createOidcClient } from '../../../src/http/web/oidc-client.ts';
import { hashBrowserSecret } from '../../../src/http/web/session-cookie.ts';
import { createWebSessionStore } from '../../../src/http/web/web-session-store.ts';
import { createOperatorAuth } from '../../../src/providers/auth/operator-auth.ts';
import { loadKeyring } from '../../../src/runtime/calendar/keyring.ts';
import { devIssuerOf, settleOutbound } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';
import { webSignIn } from '../../helpers/web-session.ts';

// The backend-for-frontend's tokens at rest and over time: sealed with the platform keyring and
// bound to their row (the table alone yields no usable token), renewed with the refresh token when
// the access token expires (once, even for requests arriving together), and a refused refresh
// signs the browser out with a 401, never a 500.

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

type Row = { session_hash: string; token_key_id: string; tokens: Buffer; access_expires_at: Date };

async function rowOf(cookie: string): Promise<Row | null> {
  const secret = cookie.split('=')[1] ?? '';
  const { rows } = await t.system.db.query<Row>(
    'SELECT session_hash, token_key_id, tokens, access_expires_at FROM id_web_sessions WHERE session_hash = $1',
    [hashBrowserSecret(secret)],
  );
  return rows[0] ?? null;
}

async function tokensOf(row: Row): Promise<{ access_token: string; refresh_token: string | null }> {
  const keyring = await loadKeyring(t.system.config);
  return JSON.parse(
    open(keyring, { keyId: row.token_key_id, ciphertext: row.tokens }, `web-session|${row.session_hash}`),
  );
}

/** As if the access token's lifetime had run out. */
async function expireAccessToken(row: Row): Promise<void> {
  await t.system.db.query(
    `UPDATE id_web_sessions SET access_expires_at = now() - interval '1 minute' WHERE session_hash = $1`,
    [row.session_hash],
  );
}

const api = (path: string, cookie: string) => fetch(`${t.baseUrl}${path}`, { headers: { cookie } });

describe('web session tokens', () => {
  it('stores the tokens sealed and bound to their row: the table holds no usable token', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const row = await rowOf(cookie);
    if (!row) throw new Error('no session row');
    const tokens = await tokensOf(row);
    expect(tokens.access_token.split('.')).toHaveLength(3);
    expect(tokens.refresh_token).toBeTruthy();
    // Neither token appears anywhere in the row as stored, in any column.
    const { rows } = await t.system.db.query<{ dump: string }>(
      `SELECT row_to_json(s)::text || encode(tokens, 'escape') AS dump FROM id_web_sessions s WHERE session_hash = $1`,
      [row.session_hash],
    );
    const dump = rows[0]?.dump ?? '';
    expect(dump).not.toContain(tokens.access_token);
    expect(dump).not.toContain(tokens.access_token.split('.')[1]);
    expect(dump).not.toContain(tokens.refresh_token);
    // A sealed value copied onto another session's row does not open there: that browser is out.
    const other = await webSignIn(t.baseUrl, 'tenant=demo&role=TECH');
    const otherRow = await rowOf(other.cookie);
    await t.system.db.query(
      'UPDATE id_web_sessions SET tokens = $2, token_key_id = $3 WHERE session_hash = $1',
      [otherRow?.session_hash, row.tokens, row.token_key_id],
    );
    expect((await api('/app/session', other.cookie)).status).toBe(401);
    expect((await api('/app/session', cookie)).status).toBe(200);
  });

  it('renews an expired access token with the refresh token, once for requests arriving together', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=TECH');
    const before = await rowOf(cookie);
    if (!before) throw new Error('no session row');
    const old = await tokensOf(before);
    await expireAccessToken(before);
    // The dev issuer rotates refresh tokens (each is good once): two refreshes racing would spend
    // the same one twice and sign the browser out.
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () => api('/api/v1/conversations', cookie).then((r) => r.status)),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const after = await rowOf(cookie);
    if (!after) throw new Error('the session ended');
    const renewed = await tokensOf(after);
    expect(after.access_expires_at.getTime()).toBeGreaterThan(Date.now() + 3600_000);
    expect(renewed.access_token).not.toBe(old.access_token);
    expect(renewed.refresh_token).not.toBe(old.refresh_token);
    expect(await (await api('/app/session', cookie)).json()).toMatchObject({ role: 'TECH' });
  });

  it('refreshes once when requests race on a slow provider (refresh tokens are good once)', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const row = await rowOf(cookie);
    if (!row) throw new Error('no session row');
    const real = createOidcClient({
      issuer: (await devIssuerOf(t.system)).issuer,
      clientId: DEV_WEB_CLIENT_ID,
      dev: true,
      redirectUri: `${t.baseUrl}/app/callback`,
    });
    let refreshes = 0;
    // The provider answering slowly widens the window in which a second refresh could start.
    const slow = {
      ...real,
      refresh: async (token: string) => {
        refreshes += 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return real.refresh(token);
      },
    };
    const store = createWebSessionStore({
      db: t.system.db,
      keyring: await loadKeyring(t.system.config),
      oidc: slow,
      verify: (await createOperatorAuth(t.system.config)).verify,
    });
    await expireAccessToken(row);
    const tokens = await Promise.all(Array.from({ length: 4 }, () => store.accessToken(row.session_hash)));
    expect(tokens.every((token) => typeof token === 'string')).toBe(true);
    expect(new Set(tokens).size).toBe(1);
    expect(refreshes).toBe(1);
  });

  it('signs the browser out (401, the session gone) when the provider refuses the refresh', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const row = await rowOf(cookie);
    if (!row) throw new Error('no session row');
    const { refresh_token } = await tokensOf(row);
    const revoked = await fetch(`${t.baseUrl}/dev-issuer/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refresh_token ?? '', client_id: 'nmc-web' }),
    });
    expect(revoked.status).toBe(200);
    await expireAccessToken(row);
    const response = await api('/api/v1/conversations', cookie);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(await rowOf(cookie)).toBeNull();
    expect((await api('/app/session', cookie)).status).toBe(401);
  });

  it('withdraws the refresh token at the provider on sign-out', async () => {
    const { cookie } = await webSignIn(t.baseUrl, 'tenant=demo&role=OWNER');
    const row = await rowOf(cookie);
    if (!row) throw new Error('no session row');
    const { refresh_token } = await tokensOf(row);
    const out = await fetch(`${t.baseUrl}/app/logout`, {
      method: 'POST',
      headers: { cookie, origin: t.baseUrl, 'x-nmc-csrf': '1' },
    });
    expect(out.status).toBe(204);
    expect(await rowOf(cookie)).toBeNull();
    const grant = await fetch(`${t.baseUrl}/dev-issuer/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refresh_token ?? '',
        client_id: 'nmc-web',
      }),
    });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toEqual({ error: 'invalid_grant' });
  });
});
