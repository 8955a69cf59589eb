import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import type { StripeSandbox } from '../../../src/providers/stripe/sandbox/server.ts';
import { buildTestApp } from '../../helpers/app.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// The OWNER's way into paying: Checkout and the billing portal, through the real Stripe SDK against
// the Stripe sandbox. One Stripe customer per tenant whatever the concurrency; X-Idempotency-Key
// answers the same session again.

let t: TestSystem;
let app: App;
let stripe: StripeSandbox;
let owner: string;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  const sandbox = t.system.stripeSandbox;
  if (!sandbox) throw new Error('the test system runs on the Stripe sandbox');
  stripe = sandbox;
  owner = await tokenFor(t.system, { subject: 'owner-1', role: 'OWNER', org: DEMO.auth_org_id });
});
afterAll(async () => {
  await t?.stop();
});

const checkout = (body: unknown, headers: Record<string, string> = {}) =>
  call(app, { method: 'POST', url: '/api/v1/billing/checkout', token: owner, body, headers });

describe('POST /api/v1/billing/checkout', () => {
  it('creates the Stripe customer once, even for two concurrent calls', async () => {
    const [a, b] = await Promise.all([checkout({ plan: 'starter' }), checkout({ plan: 'pro' })]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(stripe.customers()).toHaveLength(1);
    const customer = stripe.customers()[0];
    expect(customer?.metadata).toEqual({ tenant_id: t.demo.id });
    const { rows } = await t.system.db.query(
      'SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1',
      [t.demo.id],
    );
    expect(rows).toEqual([{ stripe_customer_id: customer?.id }]);
    for (const res of [a, b]) {
      const body = res.body as { url: string; session_id: string };
      expect(body.session_id).toMatch(/^cs_/);
      expect(body.url).toContain(body.session_id);
      const session = stripe.checkoutSessions().find((s) => s.id === body.session_id);
      expect(session?.customer).toBe(customer?.id);
      expect(session?.mode).toBe('subscription');
    }
    const again = await checkout({ plan: 'starter' });
    expect(again.status).toBe(201);
    expect(stripe.customers()).toHaveLength(1);
  });

  it('with X-Idempotency-Key the same session is returned and Stripe is asked once', async () => {
    const sessionsBefore = stripe.checkoutSessions().length;
    const headers = { 'x-idempotency-key': 'checkout-key-1' };
    const first = await checkout({ plan: 'pro' }, headers);
    const second = await checkout({ plan: 'pro' }, headers);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body).toEqual(first.body);
    expect(stripe.checkoutSessions()).toHaveLength(sessionsBefore + 1);
  });

  it('is audited, refuses an unknown plan with 400, and is OWNER-only', async () => {
    const { rows } = await t.system.db.query(
      "SELECT result FROM audit_logs WHERE tenant_id = $1 AND action = 'billing.manage'",
      [t.demo.id],
    );
    expect(rows.length).toBeGreaterThan(0);
    const bad = await checkout({ plan: 'platinum' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).code).toBe('validation_failed');
    const tech = await tokenFor(t.system, { subject: 'tech-1', role: 'TECH', org: DEMO.auth_org_id });
    const denied = await call(app, {
      method: 'POST',
      url: '/api/v1/billing/checkout',
      token: tech,
      body: { plan: 'starter' },
    });
    expect(denied.status).toBe(403);
  });

  it('paying the session in the sandbox sends the subscription to the webhook: the tenant is on the plan', async () => {
    const res = await checkout({ plan: 'pro' });
    const { session_id } = res.body as { session_id: string };
    const emitted = await stripe.completeCheckout(session_id);
    expect(emitted.status).toBe(200);
    const billing = await call(app, { method: 'GET', url: '/api/v1/billing', token: owner });
    expect(billing.body).toMatchObject({
      plan: 'pro',
      status: 'active',
      gates: { sms: true, assistant: true },
    });
    expect((billing.body as { current_period_end: string }).current_period_end).toMatch(/Z$/);
  });
});

describe('POST /api/v1/billing/portal', () => {
  it('answers a portal URL for the tenant customer', async () => {
    const res = await call(app, { method: 'POST', url: '/api/v1/billing/portal', token: owner, body: {} });
    expect(res.status).toBe(201);
    const { url } = res.body as { url: string };
    expect(url.startsWith(stripe.url)).toBe(true);
    expect(stripe.portalSessions().at(-1)?.customer).toBe(stripe.customers()[0]?.id);
  });
});

describe('without Stripe configured', () => {
  it('the webhook answers 503 unavailable', async () => {
    const { app: bare } = await buildTestApp(t.system.db);
    try {
      const res = await bare.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' },
        payload: '{}',
      });
      expect(res.statusCode).toBe(503);
      expect(JSON.parse(res.body).error.code).toBe('unavailable');
    } finally {
      await bare.close();
    }
  });
});
