import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import type { TenDlcProvider } from '../../../src/providers/ten-dlc/provider.ts';
import { pollPendingTenDlc } from '../../../src/runtime/ten-dlc.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { waitUntilSendsSettled } from '../../helpers/settled.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// The 10DLC lifecycle end to end, on the whole system (workers, outbox, Twilio sandbox): the OWNER
// submits a registration, nothing leaves while it is pending, STAFF review it, conversations react
// through the outbox subscriber, and an approval never sends anything retroactively. Then the
// scheduled provider poll, and the opt-out registry (JSON with keyset paging, and CSV).

const OTHER_NUMBER = '+15005550099';
const OTHER_FORWARDING = '+15005550098';
const SUBSCRIBER = 'conversations.campaign-status';

const VALID = {
  brand: {
    legal_name: 'Other Plumbing LLC',
    ein: '12-3456789',
    website: 'https://other-plumbing.example',
    vertical: 'Home services',
    contact_email: 'owner@other-plumbing.example',
  },
  campaign: {
    use_case: 'CUSTOMER_CARE',
    description: 'Texts callers back after a missed call so they can book a plumbing visit by SMS.',
    sample_messages: [
      'Sorry we missed your call at Other Plumbing! Reply with what you need and we will book you.',
      'You are booked for Tuesday 9:00 AM. Reply STOP to opt out, HELP for help.',
    ],
    opt_in_description:
      'Callers phone the business; when the call is missed they receive one text back and can reply STOP at any time.',
  },
};

let t: TestSystem;
let app: App;
let other: Tenant;
let third: Tenant;
const tokens = { demoOwner: '', otherOwner: '', otherTech: '', thirdOwner: '', staff: '' };

const CALLER_PENDING = '+13105550201';
const CALLER_APPROVED = '+13105550202';

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  other = await seedTenant(t.system.db, {
    campaign: 'none',
    name: 'Other Plumbing',
    auth_org_id: 'org_other',
    twilio_number: OTHER_NUMBER,
    forwarding_phone: OTHER_FORWARDING,
  });
  third = await seedTenant(t.system.db, {
    campaign: 'none',
    name: 'Third Plumbing',
    auth_org_id: 'org_third',
  });
  tokens.demoOwner = await tokenFor(t.system, { subject: 'demo_owner', role: 'OWNER', org: 'org_demo' });
  tokens.otherOwner = await tokenFor(t.system, { subject: 'other_owner', role: 'OWNER', org: 'org_other' });
  tokens.otherTech = await tokenFor(t.system, { subject: 'other_tech', role: 'TECH', org: 'org_other' });
  tokens.thirdOwner = await tokenFor(t.system, { subject: 'third_owner', role: 'OWNER', org: 'org_third' });
  tokens.staff = await tokenFor(t.system, { subject: 'staff_reviewer', role: 'STAFF' });
}, 30_000);

afterAll(async () => {
  // Let the sandbox finish its status callbacks (sent, delivered: two per message) first: one still
  // in flight when the API closes keeps a keep-alive connection open and stalls app.close().
  await waitFor(async () => t.sandbox.callbacks().length >= 2 * t.sandbox.messages().length, 10_000).catch(
    () => undefined,
  );
  await t?.stop();
});

// ---------------------------------------------------------------------------------------------
// helpers

type StatusEvent = { event_id: string; payload: { status: string; previous: string; reason: string | null } };

async function campaignEvents(tenantId: string): Promise<StatusEvent[]> {
  const { rows } = await t.system.db.query<StatusEvent>(
    `SELECT event_id, payload FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.compliance.CampaignStatusChanged' ORDER BY seq`,
    [tenantId],
  );
  return rows;
}

/** Waits until the conversations subscriber has consumed the tenant's latest status change. */
async function waitForSubscriber(tenantId: string, status: string): Promise<StatusEvent> {
  const events = await campaignEvents(tenantId);
  const event = events[events.length - 1];
  expect(event?.payload.status).toBe(status);
  if (!event) throw new Error('no CampaignStatusChanged event');
  await waitFor(async () => {
    const { rowCount } = await t.system.db.query(
      'SELECT 1 FROM outbox_consumptions WHERE tenant_id = $1 AND event_id = $2 AND subscriber = $3',
      [tenantId, event.event_id, SUBSCRIBER],
    );
    return rowCount === 1;
  }, 10_000);
  return event;
}

function sentTo(caller: string): number {
  return t.sandbox.messages().filter((m) => m.to === caller).length;
}

async function conversationOf(tenantId: string, caller: string): Promise<{ id: string; state: string }> {
  const { rows } = await t.system.db.query<{ id: string; state: string }>(
    "SELECT id, state FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed'",
    [tenantId, caller],
  );
  const row = rows[0];
  if (!row) throw new Error(`no conversation for ${caller}`);
  return row;
}

async function campaignRowCount(tenantId: string): Promise<number> {
  const { rowCount } = await t.system.db.query('SELECT 1 FROM comp_campaigns WHERE tenant_id = $1', [
    tenantId,
  ]);
  return rowCount ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function review(tenantId: string, body: unknown) {
  return call(app, {
    method: 'POST',
    url: `/api/staff/compliance/${tenantId}/review`,
    token: tokens.staff,
    body,
  });
}

// ---------------------------------------------------------------------------------------------

describe('PUT /api/v1/compliance/registration', () => {
  const invalid: Array<[string, unknown]> = [
    ['an EIN without its dash', { ...VALID, brand: { ...VALID.brand, ein: '123456789' } }],
    [
      'a single sample message',
      { ...VALID, campaign: { ...VALID.campaign, sample_messages: [VALID.campaign.sample_messages[0]] } },
    ],
    [
      'a short opt-in description',
      { ...VALID, campaign: { ...VALID.campaign, opt_in_description: 'they call us' } },
    ],
    [
      'a website that is not a URL',
      { ...VALID, brand: { ...VALID.brand, website: 'other plumbing dot com' } },
    ],
  ];

  it.each(invalid)('refuses %s with 400 validation_failed and writes nothing', async (_name, body) => {
    const res = await call(app, {
      method: 'PUT',
      url: '/api/v1/compliance/registration',
      token: tokens.otherOwner,
      body,
    });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('validation_failed');
    expect(await campaignRowCount(other.id)).toBe(0);
    expect(await campaignEvents(other.id)).toEqual([]);
  });

  it('refuses TECH (403) on both the read and the submission', async () => {
    const get = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherTech });
    expect(get.status).toBe(403);
    const put = await call(app, {
      method: 'PUT',
      url: '/api/v1/compliance/registration',
      token: tokens.otherTech,
      body: VALID,
    });
    expect(put.status).toBe(403);
    expect(await campaignRowCount(other.id)).toBe(0);
  });

  it('before any submission GET shows status none', async () => {
    const res = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherOwner });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'none',
      reason: null,
      submitted_at: null,
      reviewed_at: null,
      registration: null,
    });
  });

  it('accepts a valid registration: 200 pending, CampaignStatusChanged pending ← none, GET shows it', async () => {
    const res = await call(app, {
      method: 'PUT',
      url: '/api/v1/compliance/registration',
      token: tokens.otherOwner,
      body: VALID,
    });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({
      status: 'pending',
      reason: null,
      reviewed_at: null,
      registration: VALID,
    });
    expect((res.body as { submitted_at: string | null }).submitted_at).not.toBeNull();

    const events = await campaignEvents(other.id);
    expect(events.map((e) => e.payload)).toEqual([{ status: 'pending', previous: 'none', reason: null }]);

    const get = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherOwner });
    expect(get.status).toBe(200);
    expect(get.body).toEqual(res.body);

    const { rows } = await t.system.db.query<{ provider_ref: string | null }>(
      'SELECT provider_ref FROM comp_campaigns WHERE tenant_id = $1',
      [other.id],
    );
    expect(rows[0]?.provider_ref).toMatch(/^sandbox-/);
  });

  it('STAFF see it in the pending list', async () => {
    const res = await call(app, { method: 'GET', url: '/api/staff/compliance/pending', token: tokens.staff });
    expect(res.status).toBe(200);
    const items = (res.body as { items: Array<{ tenant_id: string; status: string }> }).items;
    expect(items).toContainEqual(expect.objectContaining({ tenant_id: other.id, status: 'pending' }));
    expect(items.some((i) => i.tenant_id === t.demo.id)).toBe(false);
  });
});

describe('while pending', () => {
  it('records a missed call but sends nothing, and says why', async () => {
    const { call: voice, dialStatus } = await t.phone.missedCall({ from: CALLER_PENDING, to: OTHER_NUMBER });
    expect(voice.status).toBe(200);
    expect(dialStatus.status).toBe(200);

    const conversation = await conversationOf(other.id, CALLER_PENDING);
    expect(conversation.state).toBe('open');
    const calls = await t.system.db.query<{ missed: boolean; texted: boolean; conversation_id: string }>(
      'SELECT missed, texted, conversation_id FROM conv_calls WHERE tenant_id = $1 AND caller = $2',
      [other.id, CALLER_PENDING],
    );
    expect(calls.rows).toEqual([{ missed: true, texted: false, conversation_id: conversation.id }]);

    const suppressed = await t.system.db.query<{ payload: Record<string, unknown> }>(
      `SELECT payload FROM outbox_events
       WHERE tenant_id = $1 AND event_name = 'nmc.conversation.SendSuppressed' AND payload->>'conversation_id' = $2`,
      [other.id, conversation.id],
    );
    expect(suppressed.rows.map((r) => r.payload.reason)).toEqual(['campaign_not_approved']);

    const out = await t.system.db.query(
      "SELECT 1 FROM conv_messages WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'out'",
      [other.id, conversation.id],
    );
    expect(out.rowCount).toBe(0);
    await waitUntilSendsSettled(t.system, other.id);
    expect(sentTo(CALLER_PENDING)).toBe(0);
  });
});

describe('STAFF review', () => {
  it('approval: 200, audited as STAFF, nothing sent retroactively; the next missed call is texted', async () => {
    const res = await review(other.id, { status: 'approved' });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ status: 'approved', reason: null });
    expect((res.body as { reviewed_at: string | null }).reviewed_at).not.toBeNull();

    // The audit row is written when the response is known (onResponse), so it may trail the reply.
    const audit = await waitFor(async () => {
      const { rows } = await t.system.db.query<{
        role: string;
        actor: string;
        result: string;
        tenant_id: string | null;
      }>(
        "SELECT role, actor, result, tenant_id FROM audit_logs WHERE action = 'staff.compliance' AND target = $1",
        [`tenantId=${other.id}`],
      );
      return rows.length > 0 ? rows : null;
    });
    expect(audit).toEqual([{ role: 'STAFF', actor: 'staff_reviewer', result: 'success', tenant_id: null }]);

    const event = await waitForSubscriber(other.id, 'approved');
    expect(event.payload).toEqual({ status: 'approved', previous: 'pending', reason: null });

    // The subscriber did deliver the change to the waiting conversation …
    const pending = await conversationOf(other.id, CALLER_PENDING);
    const applied = await t.system.db.query(
      'SELECT 1 FROM conv_applied_events WHERE tenant_id = $1 AND idempotency_key = $2',
      [other.id, `campaign:${event.event_id}:${pending.id}`],
    );
    expect(applied.rowCount).toBe(1);
    // … and it sent nothing because of it.
    await waitUntilSendsSettled(t.system, other.id);
    expect(sentTo(CALLER_PENDING)).toBe(0);
    expect(pending.state).toBe('open');

    await t.phone.missedCall({ from: CALLER_APPROVED, to: OTHER_NUMBER });
    const sms = await waitFor(async () => t.sandbox.messages().find((m) => m.to === CALLER_APPROVED), 10_000);
    expect(sms.from).toBe(OTHER_NUMBER);
    expect(sentTo(CALLER_PENDING)).toBe(0);
  });

  it('rejection blocks open conversations and shows the reason; approving again reopens them without sending', async () => {
    const before = { pending: sentTo(CALLER_PENDING), approved: sentTo(CALLER_APPROVED) };
    const reason = 'Sample messages do not match the declared use case';
    const res = await review(other.id, { status: 'rejected', reason });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ status: 'rejected', reason });

    const rejected = await waitForSubscriber(other.id, 'rejected');
    expect(rejected.payload).toEqual({ status: 'rejected', previous: 'approved', reason });
    await waitFor(async () => {
      const a = await conversationOf(other.id, CALLER_PENDING);
      const b = await conversationOf(other.id, CALLER_APPROVED);
      return a.state === 'blocked' && b.state === 'blocked';
    }, 10_000);

    const get = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherOwner });
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({ status: 'rejected', reason });

    const again = await review(other.id, { status: 'approved' });
    expect(again.status, again.raw).toBe(200);
    expect(again.body).toMatchObject({ status: 'approved', reason: null });
    await waitForSubscriber(other.id, 'approved');
    await waitFor(async () => {
      const a = await conversationOf(other.id, CALLER_PENDING);
      const b = await conversationOf(other.id, CALLER_APPROVED);
      return a.state === 'open' && b.state === 'open';
    }, 10_000);

    const unblocked = await t.system.db.query<{ reason: string }>(
      `SELECT payload->>'reason' AS reason FROM outbox_events
       WHERE tenant_id = $1 AND event_name = 'nmc.conversation.Unblocked'`,
      [other.id],
    );
    expect(unblocked.rows).toEqual([{ reason: 'campaign_approved' }, { reason: 'campaign_approved' }]);

    await waitUntilSendsSettled(t.system, other.id);
    expect({ pending: sentTo(CALLER_PENDING), approved: sentTo(CALLER_APPROVED) }).toEqual(before);
    expect((await campaignEvents(other.id)).map((e) => e.payload.status)).toEqual([
      'pending',
      'approved',
      'rejected',
      'approved',
    ]);
  });

  it('reviewing the same status again changes nothing and writes no event', async () => {
    const res = await review(other.id, { status: 'approved' });
    expect(res.status).toBe(200);
    expect(await campaignEvents(other.id)).toHaveLength(4);
  });

  it('a rejection needs a reason, and a tenant without a registration is 404', async () => {
    const noReason = await review(other.id, { status: 'rejected' });
    expect(noReason.status).toBe(400);
    expect(errorOf(noReason).code).toBe('validation_failed');
    const missing = await review('00000000-0000-4000-8000-000000000000', { status: 'approved' });
    expect(missing.status).toBe(404);
  });

  it('OWNER cannot review', async () => {
    const res = await call(app, {
      method: 'POST',
      url: `/api/staff/compliance/${other.id}/review`,
      token: tokens.otherOwner,
      body: { status: 'approved' },
    });
    expect(res.status).toBe(403);
  });
});

describe('after approval', () => {
  it('an approved campaign cannot be resubmitted (409), and nothing changes', async () => {
    const before = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherOwner });
    const res = await call(app, {
      method: 'PUT',
      url: '/api/v1/compliance/registration',
      token: tokens.otherOwner,
      body: { ...VALID, brand: { ...VALID.brand, legal_name: 'Renamed Plumbing LLC' } },
    });
    expect(res.status).toBe(409);
    expect(errorOf(res).code).toBe('conflict');
    const after = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherOwner });
    expect(after.body).toEqual(before.body);
    expect(await campaignEvents(other.id)).toHaveLength(4);
  });

  it("each OWNER sees only its own tenant's compliance", async () => {
    const demo = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.demoOwner });
    const mine = await call(app, { method: 'GET', url: '/api/v1/compliance', token: tokens.otherOwner });
    expect(demo.status).toBe(200);
    expect(mine.status).toBe(200);
    expect(demo.body).toMatchObject({ status: 'approved' });
    expect((demo.body as { registration: unknown }).registration).not.toEqual(VALID);
    expect(mine.body).toMatchObject({ status: 'approved', registration: VALID });
    expect(demo.body).not.toEqual(mine.body);
  });
});

describe('pollPendingTenDlc', () => {
  it("applies the provider's decision once; a second poll changes nothing", async () => {
    const submitted = await call(app, {
      method: 'PUT',
      url: '/api/v1/compliance/registration',
      token: tokens.thirdOwner,
      body: VALID,
    });
    expect(submitted.status, submitted.raw).toBe(200);
    const { rows } = await t.system.db.query<{ provider_ref: string }>(
      'SELECT provider_ref FROM comp_campaigns WHERE tenant_id = $1',
      [third.id],
    );
    const ref = rows[0]?.provider_ref;
    expect(ref).toBeTruthy();

    const asked: string[] = [];
    const scripted: TenDlcProvider = {
      name: 'scripted',
      submit: async () => ({ ref: 'scripted-ref' }),
      status: async (providerRef) => {
        asked.push(providerRef);
        return { status: 'approved', reason: null };
      },
    };
    expect(await pollPendingTenDlc(t.system.db, scripted)).toBe(1);
    expect(asked).toEqual([ref]);

    const campaign = await t.system.db.query<{
      status: string;
      reviewer: string | null;
      reviewed_at: Date | null;
    }>('SELECT status, reviewer, reviewed_at FROM comp_campaigns WHERE tenant_id = $1', [third.id]);
    expect(campaign.rows[0]).toMatchObject({ status: 'approved', reviewer: 'provider:scripted' });
    expect(campaign.rows[0]?.reviewed_at).toBeInstanceOf(Date);

    expect(await pollPendingTenDlc(t.system.db, scripted)).toBe(0);
    expect(asked).toHaveLength(1);
    expect((await campaignEvents(third.id)).map((e) => e.payload)).toEqual([
      { status: 'pending', previous: 'none', reason: null },
      { status: 'approved', previous: 'pending', reason: null },
    ]);
  });
});

describe('opt-out registry', () => {
  const first = '+13105550301';
  const second = '+13105550302';

  it('lists keyword opt-outs newest first, with keyset paging', async () => {
    const a = await t.phone.sms({ from: first, to: DEMO.twilio_number, body: 'STOP' });
    expect(a.response.status).toBe(200);
    await sleep(20); // distinct opted_out_at
    const b = await t.phone.sms({ from: second, to: DEMO.twilio_number, body: 'STOP' });
    expect(b.response.status).toBe(200);

    const all = await call(app, {
      method: 'GET',
      url: '/api/v1/compliance/opt-outs',
      token: tokens.demoOwner,
    });
    expect(all.status).toBe(200);
    const body = all.body as {
      items: Array<{ phone: string; source: string; opted_out_at: string }>;
      next_cursor: null;
    };
    expect(body.items.map((i) => [i.phone, i.source])).toEqual([
      [second, 'keyword'],
      [first, 'keyword'],
    ]);
    expect(body.next_cursor).toBeNull();

    const page1 = await call(app, {
      method: 'GET',
      url: '/api/v1/compliance/opt-outs?limit=1',
      token: tokens.demoOwner,
    });
    const p1 = page1.body as { items: Array<{ phone: string }>; next_cursor: string | null };
    expect(p1.items.map((i) => i.phone)).toEqual([second]);
    expect(p1.next_cursor).toEqual(expect.any(String));
    const page2 = await call(app, {
      method: 'GET',
      url: `/api/v1/compliance/opt-outs?limit=1&cursor=${encodeURIComponent(p1.next_cursor ?? '')}`,
      token: tokens.demoOwner,
    });
    expect(page2.status).toBe(200);
    const p2 = page2.body as { items: Array<{ phone: string }>; next_cursor: string | null };
    expect(p2.items.map((i) => i.phone)).toEqual([first]);
    expect(p2.next_cursor).toBeNull();

    const bad = await call(app, {
      method: 'GET',
      url: '/api/v1/compliance/opt-outs?cursor=not-a-cursor',
      token: tokens.demoOwner,
    });
    expect(bad.status).toBe(400);

    // Another tenant's registry is its own.
    const others = await call(app, {
      method: 'GET',
      url: '/api/v1/compliance/opt-outs',
      token: tokens.otherOwner,
    });
    expect(others.body).toEqual({ items: [], next_cursor: null });
  });

  it('exports the registry as CSV', async () => {
    const res = await call(app, {
      method: 'GET',
      url: '/api/v1/compliance/opt-outs.csv',
      token: tokens.demoOwner,
    });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/csv/);
    const lines = res.raw.trimEnd().split('\n');
    expect(lines[0]).toBe('phone,source,opted_out_at');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2))).toEqual([
      ['+13105550302', 'keyword'],
      ['+13105550301', 'keyword'],
    ]);
    for (const line of lines.slice(1)) {
      const at = line.split(',')[2] ?? '';
      expect(new Date(at).toISOString()).toBe(at);
    }
  });

  it('TECH cannot read the registry', async () => {
    const res = await call(app, {
      method: 'GET',
      url: '/api/v1/compliance/opt-outs.csv',
      token: tokens.otherTech,
    });
    expect(res.status).toBe(403);
  });
});
