import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantNumberTag } from '../../src/providers/twilio/numbers.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { appOf, call, tokenFor } from '../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// A business joins through the staff API and converges against the sandboxes (the real Twilio and
// Stripe SDKs, the workers of the running system); then callers reach it on its new number and are
// texted from that number. Two such businesses each get their own calls. Reconciliation finds and
// repairs drift made behind our back; closing releases the number and cancels the plan.

type View = {
  tenant: { id: string; twilio_number: string | null; closed_at: string | null };
  desired: { version: number; converged: boolean } | null;
  steps: { step: string; status: string; last_error: string | null }[];
};

let t: TestSystem;
let staff: string;
beforeAll(async () => {
  t = await startTestSystem();
  staff = await tokenFor(t.system, { subject: 'provisioning_staff', role: 'STAFF' });
});
afterAll(async () => {
  await t?.stop();
});

const api = (method: string, url: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token: staff, ...(body === undefined ? {} : { body }) });

async function converged(tenantId: string, timeoutMs = 20_000): Promise<View> {
  let last: unknown;
  return waitFor(async () => {
    const res = await api('GET', `/api/staff/tenants/${tenantId}`);
    const view = res.body as View;
    last = view;
    return view.desired?.converged && view.steps.every((s) => s.status === 'done') ? view : null;
  }, timeoutMs).catch(async (err: unknown) => {
    // Say which step it stopped at, and where its jobs are.
    const jobs = await t.system.db.query(
      "SELECT state, start_after, output FROM pgboss.job WHERE name LIKE 'provisioning-converge%' AND singleton_key = $1",
      [tenantId],
    );
    throw new Error(`${String(err)}: ${JSON.stringify(last)} jobs: ${JSON.stringify(jobs.rows)}`);
  });
}

async function provision(slug: string, areaCode: string): Promise<View> {
  const res = await api('POST', '/api/staff/tenants', {
    slug,
    name: `${slug} Plumbing`,
    time_zone: 'America/Chicago',
    auth_org_id: `org_${slug}`,
    forwarding_phone: `+1${areaCode}5550100`,
    area_code: areaCode,
    plan: 'starter',
  });
  expect(res.status, res.raw).toBe(201);
  const created = res.body as View;
  expect(created.desired?.version).toBe(1);
  expect(created.steps.map((s) => s.step)).toContain('phone_number');
  return converged(created.tenant.id);
}

let first: View;
let second: View;

describe('a business provisioned by staff', () => {
  it('converges, and a missed call to its new number is texted from that number', async () => {
    first = await provision('northside', '312');
    expect(first.tenant.twilio_number).toMatch(/^\+1312555\d{4}$/);
    const caller = '+17735550111';
    const before = t.sandbox.messages().length;
    const { call: voice } = await t.phone.missedCall({ from: caller, to: first.tenant.twilio_number ?? '' });
    expect(voice.status).toBe(200);
    const sms = await waitFor(async () =>
      t.sandbox
        .messages()
        .slice(before)
        .find((m) => m.to === caller),
    );
    expect(sms.from).toBe(first.tenant.twilio_number);
    expect(sms.body).toContain('northside Plumbing');
  });

  it('two businesses each get their own calls', async () => {
    second = await provision('southside', '708');
    const callerA = '+17735550122';
    const callerB = '+17735550133';
    await t.phone.missedCall({ from: callerA, to: first.tenant.twilio_number ?? '' });
    await t.phone.missedCall({ from: callerB, to: second.tenant.twilio_number ?? '' });
    const toA = await waitFor(async () => t.sandbox.messages().find((m) => m.to === callerA));
    const toB = await waitFor(async () => t.sandbox.messages().find((m) => m.to === callerB));
    expect(toA.from).toBe(first.tenant.twilio_number);
    expect(toB.from).toBe(second.tenant.twilio_number);
    expect(toB.body).toContain('southside Plumbing');
    const owners = await t.system.db.query(
      'SELECT tenant_id, caller FROM conv_conversations WHERE caller = ANY($1::text[]) ORDER BY caller',
      [[callerA, callerB]],
    );
    expect(owners.rows).toEqual([
      { tenant_id: first.tenant.id, caller: callerA },
      { tenant_id: second.tenant.id, caller: callerB },
    ]);
  });
});

describe('reconciliation', () => {
  it('a misspelt option is refused, not read as "repair everything with the defaults"', async () => {
    const res = await api('POST', '/api/staff/reconcile', { dryrun: true });
    expect(res.status, res.raw).toBe(400);
    expect((res.body as { error: { code: string } }).error.code).toBe('validation_failed');
  });

  it('finds a webhook URL changed behind our back, repairs it, and the report says so', async () => {
    const number = t.sandbox.numbers().find((n) => n.friendlyName === tenantNumberTag(first.tenant.id));
    if (!number) throw new Error('no number');
    const expected = number.voiceUrl;
    t.sandbox.account.numbers.set(number.sid, { ...number, voiceUrl: 'https://elsewhere.example/voice' });

    const res = await api('POST', '/api/staff/reconcile', { tenant_id: first.tenant.id });
    expect(res.status, res.raw).toBe(200);
    expect((res.body as { findings: unknown[] }).findings).toEqual([
      expect.objectContaining({ kind: 'number_webhooks', subject: number.sid, repaired: true }),
    ]);
    await waitFor(async () => t.sandbox.account.numbers.get(number.sid)?.voiceUrl === expected);
    await converged(first.tenant.id);

    const report = await api('GET', `/api/staff/drift?tenant_id=${first.tenant.id}`);
    expect((report.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        kind: 'number_webhooks',
        subject: number.sid,
        actual: { voice_url: 'https://elsewhere.example/voice', sms_url: number.smsUrl },
        repaired_at: expect.any(String),
        resolved_at: null,
      }),
    ]);
    // The next scan no longer sees it: resolved.
    await api('POST', '/api/staff/reconcile', { tenant_id: first.tenant.id });
    const after = await api('GET', `/api/staff/drift?tenant_id=${first.tenant.id}&open=true`);
    expect((after.body as { items: unknown[] }).items).toEqual([]);
  });

  it('a subscription cancelled at Stripe without an event: the scan closes the gates and reports it', async () => {
    const stripe = t.system.stripeSandbox;
    if (!stripe) throw new Error('no Stripe sandbox');
    // The webhook of the subscription's creation has reached the mirror: the gates are open by plan.
    const mirrored = await waitFor(async () => {
      const { rows } = await t.system.db.query(
        "SELECT stripe_subscription_id FROM bill_subscriptions WHERE tenant_id = $1 AND status = 'active'",
        [second.tenant.id],
      );
      return rows[0]?.stripe_subscription_id as string | undefined;
    });
    const subscription = stripe.subscription(mirrored);
    if (!subscription) throw new Error('no subscription at the sandbox');
    stripe.putSubscription({
      id: mirrored,
      customer: String(subscription.customer),
      status: 'canceled',
      plan: 'starter',
      created: Number(subscription.created),
    });
    expect((await readGatesFromBilling(t.system.db, second.tenant.id, new Date().toISOString())).sms).toBe(
      true,
    );

    const res = await api('POST', '/api/staff/reconcile', { tenant_id: second.tenant.id });
    expect((res.body as { findings: unknown[] }).findings).toEqual([
      expect.objectContaining({
        kind: 'subscription',
        subject: mirrored,
        expected: { status: 'canceled', source: 'stripe' },
        actual: { status: 'active', source: 'mirror' },
        repaired: true,
      }),
    ]);
    expect(await readGatesFromBilling(t.system.db, second.tenant.id, new Date().toISOString())).toEqual({
      sms: false,
      assistant: false,
    });
  });
});

describe('changing and closing', () => {
  it('a new forwarding phone re-runs only the profile step', async () => {
    const { rows: before } = await t.system.db.query('SELECT max(seq) AS seq FROM outbox_events');
    const res = await api('PATCH', `/api/staff/tenants/${first.tenant.id}`, {
      forwarding_phone: '+13125550199',
    });
    expect(res.status, res.raw).toBe(202);
    expect(res.body).toEqual({ desired_version: 2 });
    await converged(first.tenant.id);
    const { rows } = await t.system.db.query(
      `SELECT DISTINCT payload->>'step' AS step FROM outbox_events
       WHERE tenant_id = $1 AND seq > $2 AND event_name = 'nmc.provisioning.StepChanged'`,
      [first.tenant.id, before[0].seq],
    );
    expect(rows.map((r) => r.step)).toEqual(['profile']);
    const { rows: tenant } = await t.system.db.query(
      'SELECT forwarding_phone FROM id_tenants WHERE id = $1',
      [first.tenant.id],
    );
    expect(tenant[0].forwarding_phone).toBe('+13125550199');
  });

  it('closing exports the data, stops sending, releases the number and cancels the plan; deletion waits', async () => {
    const number = first.tenant.twilio_number ?? '';
    const res = await api('POST', `/api/staff/tenants/${first.tenant.id}/close`);
    expect(res.status, res.raw).toBe(202);
    const view = await waitFor(async () => {
      const v = (await api('GET', `/api/staff/tenants/${first.tenant.id}`)).body as View;
      const purge = v.steps.find((s) => s.step === 'purge');
      return purge?.status === 'waiting' ? v : null;
    }, 20_000);
    expect(view.steps.map((s) => [s.step, s.status])).toEqual([
      ['export', 'done'],
      ['stop_sending', 'done'],
      ['release_number', 'done'],
      ['cancel_subscription', 'done'],
      ['purge', 'waiting'],
    ]);
    expect(view.tenant.twilio_number).toBeNull();
    expect(view.tenant.closed_at).not.toBeNull();
    expect(await readGatesFromBilling(t.system.db, first.tenant.id, new Date().toISOString())).toEqual({
      sms: false,
      assistant: false,
    });
    expect(t.sandbox.numbers().some((n) => n.phoneNumber === number)).toBe(false);
    const stripe = t.system.stripeSandbox;
    expect(
      stripe
        ?.subscriptions()
        .filter((s) => (s.metadata as Record<string, string>).tenant_id === first.tenant.id)
        .map((s) => s.status),
    ).toEqual(['canceled']);
    const exported = await api('GET', `/api/staff/tenants/${first.tenant.id}/export`);
    const archive = (exported.body as { export: { archive: { tables: Record<string, unknown[]> } } }).export
      .archive;
    expect(archive.tables.conv_conversations?.length).toBeGreaterThan(0);
    expect(archive.tables.id_tenants).toHaveLength(1);
    // Nothing more is sent for it: a call to the old number reaches no tenant.
    const sent = t.sandbox.messages().length;
    await t.phone.missedCall({ from: '+17735550144', to: number });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(t.sandbox.messages().length).toBe(sent);
  });
});
