import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { seedTenant } from '../../helpers/engine.ts';
import {
  type ApiResponse,
  appOf,
  call,
  settleOutbound,
  startConversation,
  tokenFor,
} from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// RATE_LIMIT_PER_MINUTE per tenant on the operator API: the request past the limit gets 429
// `rate_limited` with Retry-After; another tenant keeps its own budget; routes outside /api are
// not limited.

const LIMIT = 5;
let t: TestSystem;
let app: App;
let demoTech: string;
let demoOwner: string;
let otherTech: string;
let demoConversation: string;

beforeAll(async () => {
  t = await startTestSystem({ RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  app = appOf(t.system);
  await seedTenant(t.system.db, { auth_org_id: 'org_rate_other' });
  demoTech = await tokenFor(t.system, { subject: 'rate_tech', role: 'TECH', org: 'org_demo' });
  demoOwner = await tokenFor(t.system, { subject: 'rate_owner', role: 'OWNER', org: 'org_demo' });
  otherTech = await tokenFor(t.system, { subject: 'rate_other', role: 'TECH', org: 'org_rate_other' });
  demoConversation = await startConversation(t.system, t.demo.id, '+13105550181');
});
afterAll(async () => {
  // No send in flight when the system stops (a send racing shutdown has hung stop(); see the report).
  if (t) await settleOutbound(t);
  await t?.stop();
});

const inbox = (token: string): Promise<ApiResponse> =>
  call(app, { method: 'GET', url: '/api/v1/conversations', token });

function expectRateLimited(res: ApiResponse) {
  expect(res.status, res.raw).toBe(429);
  expect(res.body).toEqual({
    error: { code: 'rate_limited', message: expect.any(String), correlation_id: expect.any(String) },
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('rate limit per tenant', () => {
  it(`answers the ${LIMIT + 1}th request of a tenant in a minute with 429 rate_limited and Retry-After`, async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await inbox(demoTech);
      expect(res.status, `request ${i + 1}: ${res.raw}`).toBe(200);
    }
    expectRateLimited(await inbox(demoTech));
  });

  it('counts the tenant, not the user: another user of the same tenant is limited too', async () => {
    expectRateLimited(await inbox(demoOwner));
  });

  it('leaves another tenant its own budget', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await inbox(otherTech);
      expect(res.status, `request ${i + 1}: ${res.raw}`).toBe(200);
    }
    expectRateLimited(await inbox(otherTech));
  });

  it('does not limit routes outside /api', async () => {
    const statuses = await Promise.all(
      Array.from(
        { length: LIMIT * 2 },
        async () => (await app.inject({ method: 'GET', url: '/healthz' })).statusCode,
      ),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('does not store a 429 as the answer to an X-Idempotency-Key (a retry after the window must run)', async () => {
    // The demo tenant is over its limit here. The request is refused before it does anything, so
    // its key must stay free: a stored 429 would be replayed to every retry for 24 hours, long
    // after the limit has reset, and the takeover would never happen.
    const key = `limited-${randomUUID()}`;
    const takeover = () =>
      call(app, {
        method: 'POST',
        url: `/api/v1/conversations/${demoConversation}/takeover`,
        token: demoTech,
        body: {},
        headers: { 'x-idempotency-key': key },
      });
    expectRateLimited(await takeover());
    const retry = await takeover();
    expect(retry.status).toBe(429);
    expect(
      retry.headers['idempotent-replayed'],
      'the retry was answered from the idempotency store',
    ).toBeUndefined();
    const { rows } = await t.system.db.query<{ state: string; response_status: number | null }>(
      'SELECT state, response_status FROM idempotency_keys WHERE tenant_id = $1 AND key = $2',
      [t.demo.id, key],
    );
    expect(rows).toEqual([]);
  });
});

describe('the client address on the public API (TRUST_PROXY)', () => {
  const services = '/api/public/demo/services';

  /** Statuses of `count` requests from `remoteAddress`, each naming a different client in X-Forwarded-For. */
  async function spoofed(target: App, remoteAddress: string, count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await target.inject({
        method: 'GET',
        url: services,
        remoteAddress,
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      });
      statuses.push(res.statusCode);
    }
    return statuses;
  }

  it('ignores X-Forwarded-For by default: a client cannot spread its requests over made-up addresses', async () => {
    const statuses = await spoofed(app, '198.51.100.7', LIMIT + 1);
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
  });

  it('with a hop count, counts the client the proxy names, each on its own budget', async () => {
    const proxied = await startTestSystem({ RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: '1' });
    try {
      expect(await spoofed(appOf(proxied.system), '10.0.0.1', LIMIT + 1)).toEqual(
        Array.from({ length: LIMIT + 1 }, () => 200),
      );
    } finally {
      await proxied.stop();
    }
  });

  it('with a list of proxies, trusts X-Forwarded-For only from them', async () => {
    const proxied = await startTestSystem({
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      TRUST_PROXY: '10.0.0.0/8',
    });
    try {
      const target = appOf(proxied.system);
      expect((await spoofed(target, '10.1.2.3', LIMIT + 1)).every((s) => s === 200)).toBe(true);
      const direct = await spoofed(target, '198.51.100.9', LIMIT + 1);
      expect(direct[LIMIT]).toBe(429);
    } finally {
      await proxied.stop();
    }
  });
});
