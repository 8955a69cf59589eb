import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { SANDBOX_STRIPE } from '../../../src/providers/stripe/account.ts';
import type { StripeSandbox } from '../../../src/providers/stripe/sandbox/server.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { waitUntilSendsSettled } from '../../helpers/settled.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// Stripe's webhook end to end: events signed by the Stripe sandbox exactly as Stripe signs them,
// posted over HTTP to the running system; the subscription mirror, the feature gates, and what the
// gates do to a missed call's first SMS.

let t: TestSystem;
let app: App;
let stripe: StripeSandbox;
let owner: string;
let customer: string;
const NOW_S = Math.floor(Date.now() / 1000);

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  const sandbox = t.system.stripeSandbox;
  if (!sandbox) throw new Error('the test system runs on the Stripe sandbox');
  stripe = sandbox;
  owner = await tokenFor(t.system, { subject: 'owner-1', role: 'OWNER', org: DEMO.auth_org_id });
  const checkout = await call(app, {
    method: 'POST',
    url: '/api/v1/billing/checkout',
    token: owner,
    body: { plan: 'starter' },
  });
  expect(checkout.status).toBe(201);
  const { rows } = await t.system.db.query<{ stripe_customer_id: string }>(
    'SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1',
    [t.demo.id],
  );
  customer = rows[0]?.stripe_customer_id ?? '';
  expect(customer).toMatch(/^cus_/);
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(async () => {
  await t.system.db.query('DELETE FROM bill_subscriptions');
});

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.system.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return rows[0]?.n ?? 0;
}
const stripeEvents = () => count("webhook_events WHERE provider = 'stripe'");
const gatesChanged = () =>
  count("outbox_events WHERE tenant_id = $1 AND event_name = 'nmc.billing.GatesChanged'", [t.demo.id]);

async function stored(id: string) {
  const { rows } = await t.system.db.query<{
    status: string;
    plan: string | null;
    stripe_event_created: number;
    past_due_since: Date | null;
  }>(
    'SELECT status, plan, stripe_event_created, past_due_since FROM bill_subscriptions WHERE stripe_subscription_id = $1',
    [id],
  );
  return rows[0];
}

const gates = () => readGatesFromBilling(t.system.db, t.demo.id, new Date().toISOString());

function subscription(id: string, status: string, created = NOW_S - 1000) {
  return { id, status, plan: 'starter', created, current_period_end: NOW_S + 30 * 86_400 };
}

describe('POST /webhooks/stripe: the signature comes first', () => {
  const event = {
    id: 'evt_unsigned_1',
    object: 'event',
    type: 'customer.subscription.updated',
    created: NOW_S,
    data: { object: { id: 'sub_forged', object: 'subscription', customer: 'cus_x', status: 'active' } },
  };
  const payload = JSON.stringify(event);
  const post = (headers: Record<string, string>, body = payload) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });

  it('answers 403 signature_invalid to a bad, missing, stale or foreign signature, and writes nothing', async () => {
    const before = { events: await stripeEvents(), subs: await count('bill_subscriptions') };
    const wrongSecret = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_ours' });
    const stale = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: SANDBOX_STRIPE.webhookSecret,
      timestamp: NOW_S - 3600,
    });
    const otherBody = Stripe.webhooks.generateTestHeaderString({
      payload: payload.replace('active', 'canceled'),
      secret: SANDBOX_STRIPE.webhookSecret,
    });
    const attempts: Array<Record<string, string>> = [
      {},
      { 'stripe-signature': 't=1,v1=abc' },
      { 'stripe-signature': wrongSecret },
      { 'stripe-signature': stale },
      { 'stripe-signature': otherBody },
    ];
    for (const headers of attempts) {
      const res = await post(headers);
      expect(res.statusCode).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('signature_invalid');
    }
    expect(await stripeEvents()).toBe(before.events);
    expect(await count('bill_subscriptions')).toBe(before.subs);
  });

  it('refuses a signature dated more than 5 minutes in the future like a stale one, accepts one within', async () => {
    const before = await stripeEvents();
    const nowS = Math.floor(Date.now() / 1000);
    const signedAt = (timestamp: number) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret: SANDBOX_STRIPE.webhookSecret, timestamp });
    for (const ahead of [306, 3600, 86_400 * 365]) {
      const res = await post({ 'stripe-signature': signedAt(nowS + ahead) });
      expect(res.statusCode, `${ahead} s ahead`).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('signature_invalid');
    }
    expect(await stripeEvents()).toBe(before);
    const near = await post({ 'stripe-signature': signedAt(nowS + 60) });
    expect(near.statusCode, near.body).not.toBe(403);
  });

  it('answers 400 to a signed body that is not JSON or not an event, and writes nothing', async () => {
    const before = await stripeEvents();
    for (const body of ['{not json', JSON.stringify({ hello: 'world' })]) {
      const signature = Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: SANDBOX_STRIPE.webhookSecret,
      });
      const res = await post({ 'stripe-signature': signature }, body);
      expect(res.statusCode).toBe(400);
      expect(['malformed_body', 'validation_failed']).toContain(JSON.parse(res.body).error.code);
    }
    expect(await stripeEvents()).toBe(before);
  });

  it('acknowledges an event type it does not act on, and one for a customer it does not know, writing nothing', async () => {
    const before = await stripeEvents();
    const other = await stripe.emitEvent({
      id: 'evt_other_type',
      object: 'event',
      type: 'charge.succeeded',
      created: NOW_S,
      data: { object: { id: 'ch_1', object: 'charge' } },
    });
    expect(other.status).toBe(200);
    const stranger = await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.created',
      customer: 'cus_someoneelse',
      subscription: subscription('sub_stranger', 'active'),
    });
    expect(stranger.status).toBe(200);
    expect(await stripeEvents()).toBe(before);
    expect(await count('bill_subscriptions')).toBe(0);
  });
});

describe('POST /webhooks/stripe: effects', () => {
  it('the same event delivered twice, and twice at once, is applied once', async () => {
    // An event whose application has an effect beyond the stored row: it ties with the stored state
    // (same second, different status), so applying it asks Stripe for the subscription. Stripe's
    // subscription has moved on since (active), so the event disagrees with the stored state after
    // its own application as well: each application without the dedupe would ask Stripe again.
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.created',
      customer,
      subscription: subscription('sub_dup', 'incomplete'),
      eventCreated: NOW_S - 900,
    });
    stripe.putSubscription({ ...subscription('sub_dup', 'active'), customer });
    const fetches = () =>
      stripe.requests().filter((r) => r.method === 'GET' && r.path === '/v1/subscriptions/sub_dup').length;
    const fetchesBefore = fetches();
    const eventsBefore = await stripeEvents();
    const first = await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.updated',
      customer,
      subscription: subscription('sub_dup', 'unpaid'),
      eventCreated: NOW_S - 900,
      eventId: 'evt_dup_1',
    });
    expect(first.status).toBe(200);
    expect(fetches()).toBe(fetchesBefore + 1);
    expect((await stored('sub_dup'))?.status).toBe('active');
    const changesAfterFirst = await gatesChanged();

    const again = await Promise.all([stripe.deliver(first.payload), stripe.deliver(first.payload)]);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect((await stripe.deliver(first.payload)).status).toBe(200);
    // Applied once: Stripe asked once, one webhook_events row, no further outbox event …
    expect(fetches()).toBe(fetchesBefore + 1);
    expect(await stripeEvents()).toBe(eventsBefore + 1);
    expect(await gatesChanged()).toBe(changesAfterFirst);
    expect((await stored('sub_dup'))?.status).toBe('active');
    // … and each redelivery was recognised as one.
    const outcomes = t
      .logLines()
      .map((line) => JSON.parse(line) as { msg?: string; outcome?: string; event_type?: string })
      .filter((line) => line.msg === 'stripe event' && line.event_type === 'customer.subscription.updated')
      .map((line) => line.outcome);
    expect(outcomes.slice(-3)).toEqual(['duplicate', 'duplicate', 'duplicate']);
  });

  it('out of order: an older event never moves the subscription back', async () => {
    const newer = await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.updated',
      customer,
      subscription: subscription('sub_order', 'active'),
      eventCreated: 200,
    });
    const older = await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.updated',
      customer,
      subscription: subscription('sub_order', 'canceled'),
      eventCreated: 100,
    });
    expect([newer.status, older.status]).toEqual([200, 200]);
    expect(await stored('sub_order')).toMatchObject({ status: 'active', stripe_event_created: 200 });
    expect(await gates()).toEqual({ sms: true, assistant: true });
  });

  it('two events of the same second that disagree: Stripe is asked for the subscription', async () => {
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.created',
      customer,
      subscription: subscription('sub_tie', 'incomplete'),
      eventCreated: 500,
    });
    expect((await stored('sub_tie'))?.status).toBe('incomplete');
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.updated',
      customer,
      subscription: subscription('sub_tie', 'active'),
      eventCreated: 500,
    });
    expect(await stored('sub_tie')).toMatchObject({ status: 'active', stripe_event_created: 500 });
    expect(stripe.requests().some((r) => r.method === 'GET' && r.path === '/v1/subscriptions/sub_tie')).toBe(
      true,
    );
  });

  it('deleted → canceled → every gate closed, and GET /api/v1/billing says so', async () => {
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.created',
      customer,
      subscription: subscription('sub_deleted', 'active'),
      eventCreated: NOW_S - 10,
    });
    expect(await gates()).toEqual({ sms: true, assistant: true });
    const changesBefore = await gatesChanged();
    const deleted = await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.deleted',
      customer,
      subscription: subscription('sub_deleted', 'active'),
      eventCreated: NOW_S - 5,
    });
    expect(deleted.status).toBe(200);
    expect((await stored('sub_deleted'))?.status).toBe('canceled');
    expect(await gates()).toEqual({ sms: false, assistant: false });
    expect(await gatesChanged()).toBe(changesBefore + 1);
    const { rows } = await t.system.db.query(
      "SELECT payload FROM outbox_events WHERE tenant_id = $1 AND event_name = 'nmc.billing.GatesChanged' ORDER BY seq DESC LIMIT 1",
      [t.demo.id],
    );
    expect(rows[0]?.payload).toEqual({ sms: false, assistant: false, status: 'canceled', plan: 'starter' });
    const billing = await call(app, { method: 'GET', url: '/api/v1/billing', token: owner });
    expect(billing.status).toBe(200);
    expect(billing.body).toMatchObject({
      plan: 'starter',
      status: 'canceled',
      gates: { sms: false, assistant: false },
    });
  });

  it('invoice.payment_failed → past_due (gates kept in grace), invoice.paid → active', async () => {
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.created',
      customer,
      subscription: subscription('sub_invoice', 'active'),
      eventCreated: NOW_S - 100,
    });
    await stripe.emitInvoiceEvent({
      type: 'invoice.payment_failed',
      customer,
      subscription: 'sub_invoice',
      eventCreated: NOW_S - 50,
    });
    const pastDue = await stored('sub_invoice');
    expect(pastDue?.status).toBe('past_due');
    expect(pastDue?.past_due_since?.getTime()).toBe((NOW_S - 50) * 1000);
    expect(await gates()).toEqual({ sms: true, assistant: true });
    await stripe.emitInvoiceEvent({
      type: 'invoice.paid',
      customer,
      subscription: 'sub_invoice',
      eventCreated: NOW_S - 20,
    });
    expect(await stored('sub_invoice')).toMatchObject({ status: 'active', past_due_since: null });
  });

  it('past_due beyond the 7-day grace closes the gates', async () => {
    const tenDaysAgo = NOW_S - 10 * 86_400;
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.updated',
      customer,
      subscription: subscription('sub_grace', 'past_due', tenDaysAgo - 100),
      eventCreated: tenDaysAgo,
    });
    expect((await stored('sub_grace'))?.status).toBe('past_due');
    expect(await gates()).toEqual({ sms: false, assistant: false });
  });

  it('an invoice for a subscription never seen: the subscription is fetched from Stripe', async () => {
    stripe.putSubscription({ ...subscription('sub_fetched', 'active'), customer });
    await stripe.emitInvoiceEvent({
      type: 'invoice.paid',
      customer,
      subscription: 'sub_fetched',
      eventCreated: NOW_S,
    });
    expect(await stored('sub_fetched')).toMatchObject({ status: 'active', plan: 'starter' });
  });
});

describe('the gates switch the assistant off and on, end to end', () => {
  const outSms = () => t.sandbox.messages().length;

  it('a canceled subscription: the missed call is recorded but not texted; after a new active subscription it is', async () => {
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.deleted',
      customer,
      subscription: subscription('sub_e2e_old', 'canceled', NOW_S - 5000),
      eventCreated: NOW_S - 4000,
    });
    expect(await gates()).toEqual({ sms: false, assistant: false });

    const silent = '+13105550181';
    const before = outSms();
    const { dialStatus } = await t.phone.missedCall({ from: silent, to: DEMO.twilio_number });
    expect(dialStatus.status).toBe(200);
    const suppressed = await waitFor(async () => {
      const { rows } = await t.system.db.query<{ reason: string }>(
        `SELECT e.payload->>'reason' AS reason FROM outbox_events e
         JOIN conv_conversations c ON c.tenant_id = e.tenant_id AND c.id::text = e.payload->>'conversation_id'
         WHERE e.tenant_id = $1 AND e.event_name = 'nmc.conversation.SendSuppressed' AND c.caller = $2`,
        [t.demo.id, silent],
      );
      return rows[0]?.reason;
    });
    expect(['sms_gate_closed', 'assistant_gate_closed']).toContain(suppressed);
    await waitUntilSendsSettled(t.system, t.demo.id);
    expect(outSms()).toBe(before);
    expect(t.sandbox.messages().some((m) => m.to === silent)).toBe(false);
    expect(
      await count('conv_calls WHERE tenant_id = $1 AND caller = $2 AND missed', [t.demo.id, silent]),
    ).toBe(1);
    expect(await count('conv_conversations WHERE tenant_id = $1 AND caller = $2', [t.demo.id, silent])).toBe(
      1,
    );

    // The owner subscribes again: a new subscription, active.
    await stripe.emitSubscriptionEvent({
      type: 'customer.subscription.created',
      customer,
      subscription: subscription('sub_e2e_new', 'active', NOW_S - 100),
      eventCreated: NOW_S - 50,
    });
    expect(await gates()).toEqual({ sms: true, assistant: true });
    const texted = '+13105550182';
    await t.phone.missedCall({ from: texted, to: DEMO.twilio_number });
    const sent = await waitFor(async () => t.sandbox.messages().find((m) => m.to === texted));
    expect(sent.from).toBe(DEMO.twilio_number);
    // Let the sandbox carrier's status callbacks land before the system stops.
    await waitFor(async () => {
      const { rows } = await t.system.db.query<{ status: string }>(
        `SELECT m.status FROM conv_messages m JOIN conv_conversations c
           ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
         WHERE m.tenant_id = $1 AND c.caller = $2 AND m.direction = 'out'`,
        [t.demo.id, texted],
      );
      return rows[0]?.status === 'delivered';
    });
  });
});

describe('billing routes', () => {
  it('GET /api/v1/billing with no subscription: plan null, status none, gates open', async () => {
    const res = await call(app, { method: 'GET', url: '/api/v1/billing', token: owner });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      plan: null,
      status: 'none',
      current_period_end: null,
      gates: { sms: true, assistant: true },
    });
  });

  it('a TECH may not manage billing', async () => {
    const tech = await tokenFor(t.system, { subject: 'tech-1', role: 'TECH', org: DEMO.auth_org_id });
    const res = await call(app, { method: 'GET', url: '/api/v1/billing', token: tech });
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
  });
});
