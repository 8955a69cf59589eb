import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planConvergence } from '../../../src/domain/provisioning/plan.ts';
import type { StepName } from '../../../src/domain/provisioning/steps.ts';
import { inTransaction } from '../../../src/persistence/db.ts';
import {
  claimStep,
  latestDesired,
  loadSteps,
  observedOf,
} from '../../../src/persistence/repositories/provisioning.ts';
import { tenantNumberTag } from '../../../src/providers/twilio/numbers.ts';
import { convergeTenant } from '../../../src/runtime/provisioning/converge.ts';
import { executeStep } from '../../../src/runtime/provisioning/execute-step.ts';
import {
  changeDesired,
  closeTenant,
  provisionTenant,
  replayConvergence,
} from '../../../src/runtime/provisioning/provision-tenant.ts';
import {
  type ProvisioningHarness,
  startProvisioningHarness,
  WEBHOOK_BASE,
} from '../../helpers/provisioning.ts';

// Convergence against the Twilio and Stripe sandboxes (real SDKs), driven run by run. The fault
// cases each end with exactly one number, one customer and one brand: a timeout after the
// provider acted, a 429, a 500, and a crash between the provider's answer and our commit.

let h: ProvisioningHarness;
beforeAll(async () => {
  h = await startProvisioningHarness({ timeoutMs: 400 });
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.twilio.clearFaults();
});

async function newTenant(overrides: Record<string, unknown> = {}) {
  const suffix = randomBytes(4).toString('hex');
  const { tenant } = await provisionTenant(
    h.deps,
    {
      slug: `acme-${suffix}`,
      name: `Acme ${suffix}`,
      time_zone: 'America/New_York',
      auth_org_id: `org_${suffix}`,
      forwarding_phone: '+14155550100',
      area_code: '415',
      plan: 'starter',
      ...overrides,
    },
    'test',
  );
  return tenant;
}

const mine = (tenantId: string) => ({
  numbers: () => h.twilio.numbers().filter((n) => n.friendlyName === tenantNumberTag(tenantId)),
  customers: () =>
    h.stripe.customers().filter((c) => (c.metadata as Record<string, string>).tenant_id === tenantId),
  brands: async () => {
    const steps = observedOf(await loadSteps(h.database.pool, tenantId));
    const bundle = h.twilio.brands().filter((b) => b.sid === steps.ten_dlc_brand?.outputs.brand_sid);
    return bundle;
  },
  subscriptions: () =>
    h.stripe.subscriptions().filter((s) => (s.metadata as Record<string, string>).tenant_id === tenantId),
});

async function expectExactlyOne(tenantId: string) {
  const m = mine(tenantId);
  expect(m.numbers()).toHaveLength(1);
  expect(m.customers()).toHaveLength(1);
  // Every brand registered for this tenant's A2P profile: one.
  const steps = observedOf(await loadSteps(h.database.pool, tenantId));
  const brand = h.twilio.brands().find((b) => b.sid === steps.ten_dlc_brand?.outputs.brand_sid);
  expect(brand).toBeDefined();
  expect(h.twilio.brands().filter((b) => b.a2pProfileBundleSid === brand?.a2pProfileBundleSid)).toHaveLength(
    1,
  );
  expect(h.twilio.services().filter((s) => s.friendlyName === tenantNumberTag(tenantId))).toHaveLength(1);
}

async function stepStatuses(tenantId: string) {
  return Object.fromEntries((await loadSteps(h.database.pool, tenantId)).map((s) => [s.step, s.status]));
}

describe('provisioning a tenant', () => {
  it('converges every step: a number with our webhooks, a customer and plan, 10DLC approved, a catalog', async () => {
    const tenant = await newTenant();
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    const steps = await stepStatuses(tenant.id);
    expect(Object.values(steps).every((s) => s === 'done')).toBe(true);
    expect(Object.keys(steps)).toHaveLength(9);

    const [number] = mine(tenant.id).numbers();
    expect(number?.phoneNumber).toMatch(/^\+1415555\d{4}$/);
    expect(number?.voiceUrl).toBe(`${WEBHOOK_BASE}/webhooks/twilio/voice`);
    expect(number?.smsUrl).toBe(`${WEBHOOK_BASE}/webhooks/twilio/sms`);
    const service = h.twilio.services().find((s) => s.friendlyName === tenantNumberTag(tenant.id));
    expect(service?.numbers).toEqual([number?.sid]);
    expect(h.twilio.campaigns().filter((c) => c.serviceSid === service?.sid)).toHaveLength(1);
    await expectExactlyOne(tenant.id);
    expect(mine(tenant.id).subscriptions()).toMatchObject([
      { status: 'active', metadata: { plan: 'starter' } },
    ]);

    const db = h.database.pool;
    const row = (await db.query('SELECT twilio_number FROM id_tenants WHERE id = $1', [tenant.id])).rows[0];
    expect(row.twilio_number).toBe(number?.phoneNumber);
    const customer = (
      await db.query('SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1', [tenant.id])
    ).rows[0];
    expect(customer.stripe_customer_id).toBe(mine(tenant.id).customers()[0]?.id);
    const campaign = (
      await db.query('SELECT status, provider_ref FROM comp_campaigns WHERE tenant_id = $1', [tenant.id])
    ).rows[0];
    expect(campaign).toMatchObject({ status: 'approved' });
    const services = (
      await db.query('SELECT name FROM catalog_services WHERE tenant_id = $1 ORDER BY name', [tenant.id])
    ).rows;
    expect(services.map((s) => s.name)).toEqual(['Drain cleaning', 'Toilet repair', 'Water heater repair']);

    const events = (
      await db.query(
        `SELECT event_name, payload FROM outbox_events WHERE tenant_id = $1 AND event_name LIKE 'nmc.provisioning.%' ORDER BY seq`,
        [tenant.id],
      )
    ).rows;
    expect(events.filter((e) => e.event_name === 'nmc.provisioning.StepChanged')).toHaveLength(18);
    expect(events.at(-1)).toMatchObject({
      event_name: 'nmc.provisioning.TenantConverged',
      payload: { desired_version: 1, lifecycle: 'active' },
    });
    // Converged stays converged: another run does nothing at any provider.
    const before = h.twilio.requests().length;
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    expect(h.twilio.requests().length).toBe(before);
  });

  it('takes the next number when the one it picked is bought by someone else first (21422)', async () => {
    const tenant = await newTenant();
    h.twilio.snatchNextNumbers(2);
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    expect(mine(tenant.id).numbers()).toHaveLength(1);
  });
});

const NUMBERS = /\/IncomingPhoneNumbers\.json$/;
const BRANDS = /^\/v1\/a2p\/BrandRegistrations$/;
const CUSTOMERS = /^\/v1\/customers$/;

describe('faults at each step still end with exactly one number, one customer, one brand', () => {
  it('a timeout after Twilio bought the number', async () => {
    const tenant = await newTenant();
    h.twilio.delayOn({ method: 'POST', path: NUMBERS }, 1_000);
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    const phone = (await loadSteps(h.database.pool, tenant.id)).find((s) => s.step === 'phone_number');
    expect(phone?.attempts).toBe(2);
    await expectExactlyOne(tenant.id);
  });

  it('a timeout after Twilio registered the brand', async () => {
    const tenant = await newTenant();
    h.twilio.delayOn({ method: 'POST', path: BRANDS }, 1_000);
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    await expectExactlyOne(tenant.id);
  });

  it('timeouts after Stripe created the customer (the SDK retries with the same key, then our retry searches)', async () => {
    const tenant = await newTenant();
    h.stripe.delayOn({ method: 'POST', path: CUSTOMERS }, 1_000);
    h.stripe.delayOn({ method: 'POST', path: CUSTOMERS }, 1_000);
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    await expectExactlyOne(tenant.id);
  });

  it('429 and 500 answers are retried with backoff', async () => {
    const tenant = await newTenant();
    h.twilio.failOn({ method: 'POST', path: NUMBERS }, { status: 429 });
    h.twilio.failOn({ method: 'POST', path: BRANDS }, { status: 500 });
    h.twilio.failOn({ method: 'POST', path: BRANDS }, { status: 503 });
    h.stripe.failOn({ method: 'POST', path: /^\/v1\/subscriptions$/ }, { status: 500 });
    h.stripe.failOn({ method: 'POST', path: /^\/v1\/subscriptions$/ }, { status: 500 });
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    const attempts = Object.fromEntries(
      (await loadSteps(h.database.pool, tenant.id)).map((s) => [s.step, s.attempts]),
    );
    expect(attempts).toMatchObject({ phone_number: 2, ten_dlc_brand: 3, subscription: 2 });
    await expectExactlyOne(tenant.id);
    expect(mine(tenant.id).subscriptions()).toHaveLength(1);
    // Each failure was visible as its own event.
    const pending = await h.database.pool.query(
      `SELECT payload->>'step' AS step FROM outbox_events
       WHERE tenant_id = $1 AND event_name = 'nmc.provisioning.StepChanged' AND payload->>'status' = 'pending'`,
      [tenant.id],
    );
    expect(pending.rows.map((r) => r.step).sort()).toEqual([
      'phone_number',
      'subscription',
      'ten_dlc_brand',
      'ten_dlc_brand',
    ]);
  });

  it.each(['stripe_customer', 'phone_number', 'ten_dlc_brand', 'messaging_service'] as StepName[])(
    'a crash between the provider’s answer and our commit (%s)',
    async (crashed) => {
      const tenant = await newTenant();
      // Converge up to the step that crashes.
      for (;;) {
        const desired = await latestDesired(h.database.pool, tenant.id);
        if (!desired) throw new Error('no desired state');
        const observed = observedOf(await loadSteps(h.database.pool, tenant.id));
        const plan = planConvergence({
          desired: desired.spec,
          observed,
          webhookBaseUrl: WEBHOOK_BASE,
          now: new Date(),
        });
        if (plan.kind !== 'act') throw new Error(`expected to act, got ${plan.kind}`);
        if (plan.step === crashed) {
          // The runner claims the step, the provider acts and answers — and the runner dies before
          // recording anything.
          await inTransaction(h.database.pool, (client) =>
            claimStep(client, {
              tenantId: tenant.id,
              step: plan.step,
              rowVersion: plan.rowVersion,
              fingerprint: plan.fingerprint,
              desiredVersion: desired.version,
              again: plan.again,
              leaseSeconds: 60,
            }),
          );
          await executeStep(plan.step, {
            deps: h.deps,
            tenantId: tenant.id,
            desired: desired.spec,
            desiredVersion: desired.version,
            input: plan.input,
            previous: {},
            outputs: (name) => observed[name]?.outputs,
            again: false,
            now: new Date(),
          });
          break;
        }
        await convergeTenant(h.deps, tenant.id, 'test', { maxSteps: 1 });
      }
      // While the lease holds, nobody runs the step again.
      expect(await h.runUntilSettled(tenant.id)).toMatchObject({
        kind: 'later',
        why: 'lease',
        step: crashed,
      });
      // The lease runs out (the runner is dead): the next run takes the step over and finds its work.
      await h.database.pool.query(
        "UPDATE prov_steps SET lease_until = now() - interval '1 second' WHERE tenant_id = $1 AND step = $2",
        [tenant.id, crashed],
      );
      expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
      await expectExactlyOne(tenant.id);
    },
  );
});

const REGISTRATION = {
  brand: {
    legal_name: 'Acme Plumbing LLC',
    ein: '12-3456789',
    website: 'https://acme.example',
    vertical: 'Home services',
    contact_email: 'owner@acme.example',
  },
  campaign: {
    use_case: 'CUSTOMER_CARE' as const,
    description: 'Texts to callers whose call we missed, to book a visit or answer a question.',
    sample_messages: ['Sorry we missed your call! Reply here to book.', 'Your visit is booked for Tue 9am.'],
    opt_in_description: 'Callers call the business and receive a text because the call was missed.',
  },
};

describe('rejections and changes', () => {
  it('a rejected brand fails its step with the carrier’s reason; new brand data registers a new brand', async () => {
    const tenant = await newTenant();
    h.twilio.rejectNextBrand('TAX_ID_MISMATCH: the EIN does not match the legal name');
    expect(await h.runUntilSettled(tenant.id)).toEqual({
      kind: 'blocked',
      step: 'ten_dlc_brand',
      reason: 'brand rejected: TAX_ID_MISMATCH: the EIN does not match the legal name',
    });
    // Retrying the same data is pointless: a replay leaves it rejected.
    await replayConvergence(h.deps, tenant.id);
    expect(await h.runUntilSettled(tenant.id)).toMatchObject({ kind: 'blocked', step: 'ten_dlc_brand' });
    const rejectedEvent = await h.database.pool.query(
      `SELECT payload FROM outbox_events WHERE tenant_id = $1 AND event_name = 'nmc.provisioning.StepChanged'
         AND payload->>'status' = 'failed'`,
      [tenant.id],
    );
    expect(rejectedEvent.rows[0]?.payload).toMatchObject({
      step: 'ten_dlc_brand',
      reason: expect.stringContaining('TAX_ID'),
    });

    await changeDesired(h.deps, tenant.id, { ten_dlc: REGISTRATION }, 'test');
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    const steps = observedOf(await loadSteps(h.database.pool, tenant.id));
    const brand = h.twilio.brands().find((b) => b.sid === steps.ten_dlc_brand?.outputs.brand_sid);
    expect(brand?.brandType).toBe('STANDARD');
    expect(
      h.twilio.brands().filter((b) => b.a2pProfileBundleSid === brand?.a2pProfileBundleSid),
    ).toHaveLength(2);
  });

  it('a rejected campaign keeps texts off with the reason in the compliance record', async () => {
    const tenant = await newTenant();
    h.twilio.rejectNextCampaign('the opt-in description does not say how callers agree');
    expect(await h.runUntilSettled(tenant.id)).toMatchObject({ kind: 'blocked', step: 'ten_dlc_campaign' });
    const { rows } = await h.database.pool.query(
      'SELECT status, reason FROM comp_campaigns WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(rows[0]).toEqual({
      status: 'rejected',
      reason: 'the opt-in description does not say how callers agree',
    });
  });

  it('a plan change moves the one subscription to the new price, nothing else acts', async () => {
    const tenant = await newTenant();
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    const before = h.twilio.requests().length;
    await changeDesired(h.deps, tenant.id, { plan: 'pro' }, 'test');
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    expect(h.twilio.requests().length).toBe(before);
    const subs = mine(tenant.id).subscriptions();
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ status: 'active', metadata: { plan: 'pro' } });
  });

  it('closing waits out the retention period, then deletes the tenant and its rows', async () => {
    const tenant = await newTenant();
    expect(await h.runUntilSettled(tenant.id)).toEqual({ kind: 'converged' });
    await closeTenant(h.deps, tenant.id, 'test');
    const waiting = await convergeTenant(h.deps, tenant.id, 'test');
    expect(waiting.plan).toMatchObject({ kind: 'later', step: 'purge', why: 'provider' });
    expect(mine(tenant.id).numbers()).toHaveLength(0);
    expect(
      mine(tenant.id)
        .subscriptions()
        .map((s) => s.status),
    ).toEqual(['canceled']);
    // The retention period is over.
    await h.database.pool.query(
      "UPDATE id_tenants SET closed_at = now() - interval '31 days' WHERE id = $1",
      [tenant.id],
    );
    await h.database.pool.query(
      "UPDATE prov_steps SET next_attempt_at = now() WHERE tenant_id = $1 AND step = 'purge'",
      [tenant.id],
    );
    expect((await convergeTenant(h.deps, tenant.id, 'test')).plan).toEqual({ kind: 'converged' });
    for (const table of ['id_tenants', 'prov_steps', 'catalog_services', 'comp_campaigns', 'outbox_events']) {
      const column = table === 'id_tenants' ? 'id' : 'tenant_id';
      const { rows } = await h.database.pool.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`,
        [tenant.id],
      );
      expect(rows[0].n, table).toBe(0);
    }
  });
});
