import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WRONG_ATTEMPTS } from '../../../src/domain/onboarding/phone-verification.ts';
import { IDEMPOTENCY_HEADER } from '../../../src/http/idempotency.ts';
import { eventObject } from '../../../src/providers/stripe/sandbox/events.ts';
import type { StripeSandbox } from '../../../src/providers/stripe/sandbox/server.ts';
import { SANDBOX_PLATFORM_SENDER } from '../../../src/system.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// Self-serve onboarding through the API, against the running system (its Twilio and Stripe
// sandboxes, the real SDKs, the workers): the admin of an organisation with no tenant fills in a
// draft, verifies the forwarding phone by a texted code, picks a number, pays through Checkout;
// Stripe's checkout.session.completed makes the tenant (the admin its OWNER) and convergence buys
// the number, which then texts back a missed caller.

type Draft = {
  stage: string;
  tenant_id: string | null;
  slug: string | null;
  forwarding_phone: string | null;
  phone_verified: boolean;
  twilio_number: string | null;
  checkout_url: string | null;
  missing: string[];
  templates: { template: string }[];
};

let t: TestSystem;
let stripe: StripeSandbox;
let admin: string;
let member: string;
let rival: string;
const ORG = 'org_onboarding_main';
const RIVAL_ORG = 'org_onboarding_rival';
const FORWARDING = '+14155550142';

beforeAll(async () => {
  t = await startTestSystem();
  if (!t.system.stripeSandbox) throw new Error('the test system has no Stripe sandbox');
  stripe = t.system.stripeSandbox;
  admin = await tokenFor(t.system, { subject: 'onb_admin', role: 'OWNER', org: ORG });
  member = await tokenFor(t.system, { subject: 'onb_member', role: 'TECH', org: ORG });
  rival = await tokenFor(t.system, { subject: 'onb_rival', role: 'OWNER', org: RIVAL_ORG });
});
afterAll(async () => {
  await t?.stop();
});

const api = (token: string, method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
  call(appOf(t.system), {
    method,
    url,
    token,
    ...(body === undefined ? {} : { body }),
    ...(headers ? { headers } : {}),
  });

const draftRow = async (org: string) =>
  (await t.system.db.query('SELECT * FROM prov_onboarding_drafts WHERE auth_org_id = $1', [org])).rows[0];

/** The code the sandbox carried to `phone` in the last text from the platform's sender. */
function lastCodeTo(phone: string): string {
  const text = t.sandbox
    .messages()
    .filter((m) => m.to === phone && m.from === SANDBOX_PLATFORM_SENDER)
    .at(-1);
  const code = /\b(\d{6})\b/.exec(text?.body ?? '')?.[1];
  if (!code) throw new Error(`no code texted to ${phone}`);
  return code;
}

/** The tenant a sandbox Stripe object names in its metadata. */
const tenantOf = (object: object) => (object as { metadata?: { tenant_id?: string } }).metadata?.tenant_id;

/** Lets the next code be asked for at once (the 30 s cooldown is the domain's, unit-sized here). */
const skipCooldown = (org: string) =>
  t.system.db.query(
    "UPDATE prov_onboarding_drafts SET code_sent_at = now() - interval '1 minute' WHERE auth_org_id = $1",
    [org],
  );

describe('who may onboard', () => {
  it('an admin of an organisation with no tenant gets an empty draft; a member of it is refused', async () => {
    const res = await api(admin, 'GET', '/api/v1/onboarding');
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ stage: 'none', tenant_id: null });
    expect((res.body as Draft).templates.map((x) => x.template)).toContain('hvac');
    const refused = await api(member, 'GET', '/api/v1/onboarding');
    expect(refused.status).toBe(403);
  });

  it('the onboarding principal reaches no route but the onboarding ones', async () => {
    const app = appOf(t.system);
    const others = app.apiRoutes.filter((r) => !r.public && !r.action?.startsWith('onboarding.'));
    expect(others.length).toBeGreaterThan(50);
    for (const route of others) {
      const url = route.url.replace(/:\w+/g, randomUUID());
      const body = route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} };
      const res = await call(app, { method: route.method, url, token: admin, ...body });
      expect(res.status, `${route.method} ${route.url}`).toBe(403);
    }
  });

  it('an owner whose organisation has a tenant cannot start a draft', async () => {
    const owner = await tokenFor(t.system, { subject: 'onb_demo_owner', role: 'OWNER', org: 'org_demo' });
    const res = await api(owner, 'PUT', '/api/v1/onboarding', { name: 'Second Business' });
    expect(res.status).toBe(403);
    const view = await api(owner, 'GET', '/api/v1/onboarding');
    expect(view.body).toMatchObject({ stage: 'complete', tenant_id: t.demo.id });
  });
});

describe('the draft', () => {
  it('saves the business, and a slug a tenant or another draft holds is a 409', async () => {
    const taken = await api(admin, 'PUT', '/api/v1/onboarding', { slug: t.demo.slug });
    expect(taken.status).toBe(409);
    expect(errorOf(taken).code).toBe('conflict');

    const res = await api(admin, 'PUT', '/api/v1/onboarding', {
      name: 'Bayside Heating',
      slug: 'bayside-heating',
      time_zone: 'America/Los_Angeles',
      template: 'hvac',
    });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({
      stage: 'draft',
      slug: 'bayside-heating',
      missing: ['forwarding_phone'],
    });

    const held = await api(rival, 'PUT', '/api/v1/onboarding', { slug: 'bayside-heating' });
    expect(held.status).toBe(409);
    // Neither organisation sees the other's draft (the refused one saved nothing at all).
    const rivals = await api(rival, 'GET', '/api/v1/onboarding');
    expect(rivals.body).toMatchObject({ stage: 'none', slug: null, name: null });
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const before = await draftRow(ORG);
    for (const body of [
      { time_zone: 'Mars/Olympus' },
      { slug: 'Not A Slug' },
      { template: 'carpentry' },
      { twilio_number: '4155550100' },
      { name: 'x', unknown: true },
    ]) {
      const res = await api(admin, 'PUT', '/api/v1/onboarding', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(await draftRow(ORG)).toEqual(before);
  });

  it('lists the numbers available in an area code (Twilio AvailablePhoneNumbers) and picks one', async () => {
    const res = await api(admin, 'GET', '/api/v1/onboarding/numbers?area_code=415');
    expect(res.status, res.raw).toBe(200);
    const { numbers } = res.body as { numbers: string[] };
    expect(numbers.length).toBeGreaterThan(0);
    expect(numbers.every((n) => n.startsWith('+1415'))).toBe(true);
    const picked = await api(admin, 'PUT', '/api/v1/onboarding', { twilio_number: numbers[0] });
    expect(picked.body).toMatchObject({ twilio_number: numbers[0] });
    expect((await api(admin, 'GET', '/api/v1/onboarding/numbers?area_code=015')).status).toBe(400);
  });
});

describe('verifying the forwarding phone', () => {
  it('texts a 6-digit code from the platform sender and keeps only its hash', async () => {
    const res = await api(admin, 'POST', '/api/v1/onboarding/phone/code', { phone: FORWARDING });
    expect(res.status, res.raw).toBe(202);
    const code = lastCodeTo(FORWARDING);
    const row = await draftRow(ORG);
    expect(row.forwarding_phone).toBe(FORWARDING);
    expect(JSON.stringify(row)).not.toContain(code);
    expect(row.code_hash).toMatch(/^[0-9a-f]{32}:[0-9a-f]{64}$/);
  });

  it('asks for a pause before texting the same phone again', async () => {
    const again = await api(admin, 'POST', '/api/v1/onboarding/phone/code', { phone: FORWARDING });
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('a wrong code is 422 and counts; an expired one is 410', async () => {
    const code = lastCodeTo(FORWARDING);
    const wrong = code === '000000' ? '000001' : '000000';
    const res = await api(admin, 'POST', '/api/v1/onboarding/phone/verify', { code: wrong });
    expect(res.status).toBe(422);
    expect(errorOf(res).code).toBe('unprocessable');
    expect((await draftRow(ORG)).code_attempts).toBe(1);

    await t.system.db.query(
      "UPDATE prov_onboarding_drafts SET code_expires_at = now() - interval '1 second' WHERE auth_org_id = $1",
      [ORG],
    );
    const expired = await api(admin, 'POST', '/api/v1/onboarding/phone/verify', { code });
    expect(expired.status).toBe(410);
    expect((await draftRow(ORG)).phone_verified_at).toBeNull();
  });

  it(`after ${MAX_WRONG_ATTEMPTS} wrong codes even the right one is refused until a new code is sent`, async () => {
    await skipCooldown(ORG);
    expect((await api(admin, 'POST', '/api/v1/onboarding/phone/code', { phone: FORWARDING })).status).toBe(
      202,
    );
    const code = lastCodeTo(FORWARDING);
    const wrong = code === '999999' ? '999998' : '999999';
    for (let i = 0; i < MAX_WRONG_ATTEMPTS; i += 1) {
      expect((await api(admin, 'POST', '/api/v1/onboarding/phone/verify', { code: wrong })).status).toBe(422);
    }
    const locked = await api(admin, 'POST', '/api/v1/onboarding/phone/verify', { code });
    expect(locked.status).toBe(429);
    expect((await draftRow(ORG)).phone_verified_at).toBeNull();
  });

  it('the right code verifies the phone once; the code cannot be used again', async () => {
    await skipCooldown(ORG);
    expect((await api(admin, 'POST', '/api/v1/onboarding/phone/code', { phone: FORWARDING })).status).toBe(
      202,
    );
    const code = lastCodeTo(FORWARDING);
    const res = await api(admin, 'POST', '/api/v1/onboarding/phone/verify', { code });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ phone_verified: true, missing: [] });
    const reused = await api(admin, 'POST', '/api/v1/onboarding/phone/verify', { code });
    expect(reused.status).toBe(409);
  });
});

describe('checkout and the new tenant', () => {
  let sessionId = '';

  it('is refused until the draft is complete', async () => {
    await api(rival, 'PUT', '/api/v1/onboarding', {
      name: 'Rival Co',
      slug: 'rival-co',
      time_zone: 'America/Chicago',
    });
    const res = await api(rival, 'POST', '/api/v1/onboarding/checkout', { plan: 'starter' });
    expect(res.status).toBe(422);
    expect(errorOf(res).message).toContain('forwarding_phone');
  });

  it('a double submit gets one Checkout Session, and idempotency keys are scoped per organisation', async () => {
    const key = { [IDEMPOTENCY_HEADER]: 'onboarding-checkout-1' };
    const [a, b] = await Promise.all([
      api(admin, 'POST', '/api/v1/onboarding/checkout', { plan: 'starter' }, key),
      api(admin, 'POST', '/api/v1/onboarding/checkout', { plan: 'starter' }),
    ]);
    expect(a.status, a.raw).toBe(201);
    expect(b.status, b.raw).toBe(201);
    sessionId = (a.body as { session_id: string }).session_id;
    expect((b.body as { session_id: string }).session_id).toBe(sessionId);
    const draft = await draftRow(ORG);
    expect(stripe.checkoutSessions().filter((s) => tenantOf(s) === draft.tenant_id)).toHaveLength(1);
    // The same key from another organisation is that organisation's own request, not a replay.
    const other = await api(rival, 'POST', '/api/v1/onboarding/checkout', { plan: 'starter' }, key);
    expect(other.status).toBe(422);
    // The draft is frozen while its checkout is open.
    expect((await api(admin, 'PUT', '/api/v1/onboarding', { name: 'Changed' })).status).toBe(409);
  });

  it('the paid checkout makes the tenant once, its admin the OWNER, and convergence provisions it', async () => {
    const draft = await draftRow(ORG);
    const emitted = await stripe.completeCheckout(sessionId);
    expect(emitted.status).toBe(200);
    const tenant = await t.system.db.query(
      'SELECT id, slug, auth_org_id FROM id_tenants WHERE auth_org_id = $1',
      [ORG],
    );
    expect(tenant.rows).toEqual([{ id: draft.tenant_id, slug: 'bayside-heating', auth_org_id: ORG }]);

    // Stripe delivers the session's event again: nothing more happens.
    const session = stripe.checkoutSessions().find((s) => s.id === sessionId);
    if (!session) throw new Error('no session');
    const replay = await stripe.emitEvent(
      eventObject('checkout.session.completed', session, Math.floor(Date.now() / 1000)),
    );
    expect(replay.status).toBe(200);
    const versions = await t.system.db.query('SELECT version FROM prov_desired_states WHERE tenant_id = $1', [
      draft.tenant_id,
    ]);
    expect(versions.rows).toHaveLength(1);

    // The same token now belongs to the tenant's OWNER.
    const billing = await api(admin, 'GET', '/api/v1/billing');
    expect(billing.status, billing.raw).toBe(200);
    expect(billing.body).toMatchObject({ plan: 'starter', status: 'active' });
    const users = await api(admin, 'GET', '/api/v1/users');
    expect(users.body).toMatchObject({ items: [expect.objectContaining({ role: 'OWNER' })] });
    const done = await api(admin, 'GET', '/api/v1/onboarding');
    expect(done.body).toMatchObject({ stage: 'complete', tenant_id: draft.tenant_id, checkout_url: null });
    expect((await api(admin, 'PUT', '/api/v1/onboarding', { name: 'Again' })).status).toBe(403);
    // One Stripe customer: convergence adopted the one Checkout used.
    expect(stripe.customers().filter((c) => tenantOf(c) === draft.tenant_id)).toHaveLength(1);

    // Convergence (the running workers) buys the picked number; a missed call to it is texted from it.
    await waitFor(async () => {
      const row = await t.system.db.query(
        'SELECT converged_at FROM prov_desired_states WHERE tenant_id = $1 AND converged_at IS NOT NULL',
        [draft.tenant_id],
      );
      return row.rows.length > 0 ? true : null;
    }, 30_000);
    const row = await t.system.db.query('SELECT twilio_number FROM id_tenants WHERE id = $1', [
      draft.tenant_id,
    ]);
    const number = row.rows[0]?.twilio_number as string;
    expect(number).toBe(draft.twilio_number);
    const caller = '+15105550177';
    await t.phone.missedCall({ from: caller, to: number });
    const text = await waitFor(
      async () => t.sandbox.messages().find((m) => m.to === caller && m.from === number) ?? null,
      15_000,
    );
    expect(text.body).toContain('Bayside Heating');
  });
});
