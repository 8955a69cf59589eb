import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { inTransaction } from '../../../src/persistence/db.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { recordOptOut } from '../../../src/persistence/repositories/compliance.ts';
import { createResource } from '../../../src/persistence/repositories/scheduling/resources.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { findAvailability } from '../../../src/runtime/scheduling/find-availability.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import { loadSchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { type SeedTenantOverrides, seedTenant } from '../../helpers/engine.ts';
import {
  type ApiResponse,
  appOf,
  call,
  errorOf,
  settleOutbound,
  tokenFor,
} from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// The public booking API with a real customer, against the whole system (real Postgres, the send
// worker, the Twilio sandbox): a hold carries the customer and texts them a 6-digit code through
// the conversation's send path; only that code books; wrong codes are counted and release the hold;
// a phone holds at most three times at once; the guards (opt-out, campaign) keep the text back;
// a tenant that has not turned public booking on has no public API at all.

const DAY_MS = 86_400_000;
const ALL_DAY = [{ start: '00:00', end: '24:00' }];
const ALWAYS_OPEN = { 1: ALL_DAY, 2: ALL_DAY, 3: ALL_DAY, 4: ALL_DAY, 5: ALL_DAY, 6: ALL_DAY, 7: ALL_DAY };

type Bookable = { tenant: Tenant; service: string; resource: string; slots: string[] };
type Hold = { id: string; resource_id: string; start: string; end: string; expires_at: string };

let t: TestSystem;
let app: App;
let demo: Bookable;
/** Public booking on, campaign still pending. */
let pending: Bookable;
/** Public booking never turned on. */
let closed: Bookable;
let phoneCounter = 0;

/** A new, valid US number per call, so tests never share a caller. */
function newPhone(): string {
  phoneCounter += 1;
  return `+1310555${String(1000 + phoneCounter).slice(-4)}`;
}

async function bookable(tenant: Tenant): Promise<Bookable> {
  const service = await createService(t.system.db, tenant.id, {
    name: `Public ${randomUUID()}`,
    duration_minutes: 30,
    price: { amount_cents: 9900, currency: 'USD' },
  });
  const resource = await createResource(t.system.db, tenant.id, {
    name: 'Public crew',
    time_zone: 'UTC',
    weekly_hours: ALWAYS_OPEN,
  });
  const found = await findAvailability(t.system.db, {
    tenantId: tenant.id,
    serviceId: service.id,
    resourceId: resource.id,
    from: new Date(Date.now() + 2 * 3_600_000).toISOString(),
    to: new Date(Date.now() + 10 * DAY_MS).toISOString(),
    now: new Date().toISOString(),
    settings: await loadSchedulingSettings(t.system.db, tenant.id, { holdTtlMinutes: 15 }),
  });
  return { tenant, service: service.id, resource: resource.id, slots: found.items.map((s) => s.start) };
}

async function tenantWith(overrides: SeedTenantOverrides): Promise<Bookable> {
  return bookable(await seedTenant(t.system.db, overrides));
}

function nextSlot(b: Bookable): string {
  const slot = b.slots.shift();
  if (!slot) throw new Error('no free slots left');
  return slot;
}

function holdRequest(
  b: Bookable,
  phone: string,
  options: { slot?: string; name?: string; key?: string; slug?: string } = {},
) {
  return call(app, {
    method: 'POST',
    url: `/api/public/${options.slug ?? b.tenant.slug}/holds`,
    body: {
      service_id: b.service,
      resource_id: b.resource,
      start: options.slot ?? nextSlot(b),
      customer: { name: options.name ?? 'Ana Ruiz', phone },
    },
    ...(options.key ? { headers: { 'x-idempotency-key': options.key } } : {}),
  });
}

async function placePublicHold(b: Bookable, phone: string, slot?: string): Promise<Hold> {
  const res = await holdRequest(b, phone, slot ? { slot } : {});
  expect(res.status, res.raw).toBe(201);
  return res.body as Hold;
}

function book(b: Bookable, holdId: string, code: string, slug = b.tenant.slug): Promise<ApiResponse> {
  return call(app, {
    method: 'POST',
    url: `/api/public/${slug}/bookings`,
    body: { hold_id: holdId, code },
  });
}

const CODE_IN_TEXT = /\b(\d{6})\b/;

/** The code the sandbox Twilio delivered to `phone` (the latest text to it). */
async function codeTextedTo(phone: string): Promise<string> {
  const text = await waitFor(
    async () =>
      t.sandbox
        .messages()
        .filter((m) => m.to === phone)
        .at(-1),
    10_000,
  );
  const code = CODE_IN_TEXT.exec(text.body)?.[1];
  if (!code) throw new Error(`no code in the text: ${text.body}`);
  return code;
}

async function conversationOf(b: Bookable, phone: string): Promise<string | null> {
  const { rows } = await t.system.db.query<{ id: string }>(
    'SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2',
    [b.tenant.id, phone],
  );
  return rows[0]?.id ?? null;
}

async function publicSlots(b: Bookable): Promise<string[]> {
  const from = encodeURIComponent(new Date(Date.now()).toISOString());
  const to = encodeURIComponent(new Date(Date.now() + 11 * DAY_MS).toISOString());
  const res = await call(app, {
    method: 'GET',
    url: `/api/public/${b.tenant.slug}/availability?service_id=${b.service}&resource_id=${b.resource}&from=${from}&to=${to}`,
  });
  expect(res.status, res.raw).toBe(200);
  return (res.body as { items: { start: string }[] }).items.map((s) => s.start);
}

/** The outbound rows and the suppressed sends the hold's dispatch wrote for this caller (same transaction as the 201). */
async function outboundOf(b: Bookable, phone: string) {
  const conversation = await conversationOf(b, phone);
  const messages = await t.system.db.query<{ body: string }>(
    "SELECT body FROM conv_messages WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'out'",
    [b.tenant.id, conversation],
  );
  const suppressed = await t.system.db.query<{ reason: string }>(
    `SELECT payload->>'reason' AS reason FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.conversation.SendSuppressed' AND payload->>'conversation_id' = $2`,
    [b.tenant.id, conversation],
  );
  return { conversation, texts: messages.rows, suppressed: suppressed.rows.map((r) => r.reason) };
}

function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, res.raw).toBe(status);
  expect(res.body).toEqual({
    error: { code, message: expect.any(String), correlation_id: expect.any(String) },
  });
}

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  demo = await bookable(t.demo);
  pending = await tenantWith({ campaign: 'pending', settings: { public_booking_enabled: true } });
  closed = await tenantWith({});
}, 60_000);
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

describe('a public hold texts a code; the code books', () => {
  it('texts a 6-digit code to the phone through the Twilio sandbox, and stores only its hash', async () => {
    const phone = newPhone();
    const hold = await placePublicHold(demo, phone);
    const code = await codeTextedTo(phone);
    const sent = t.sandbox.messages().filter((m) => m.to === phone);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.from).toBe(t.demo.twilio_number);
    expect(sent[0]?.body).toContain(code);

    const { rows } = await t.system.db.query<Record<string, unknown>>(
      'SELECT * FROM sched_booking_codes WHERE tenant_id = $1 AND hold_id = $2',
      [t.demo.id, hold.id],
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0])).not.toContain(code);
    for (const line of t.logLines()) expect(line).not.toContain(code);
  });

  it('books with the right code; the operator sees the customer and their conversation', async () => {
    const phone = newPhone();
    const hold = await placePublicHold(demo, phone, undefined);
    const code = await codeTextedTo(phone);
    const res = await book(demo, hold.id, code);
    expect(res.status, res.raw).toBe(201);
    // The public answer names no customer and no conversation.
    expect(res.body).toEqual({
      id: hold.id,
      resource_id: demo.resource,
      service_id: demo.service,
      start: hold.start,
      end: hold.end,
      status: 'confirmed',
    });
    // Booking again with the same code is harmless.
    expect((await book(demo, hold.id, code)).status).toBe(201);

    const conversation = await conversationOf(demo, phone);
    expect(conversation).not.toBeNull();
    const owner = await tokenFor(t.system, { subject: 'public_owner', role: 'OWNER', org: 'org_demo' });
    const from = encodeURIComponent(new Date(Date.parse(hold.start) - 60_000).toISOString());
    const to = encodeURIComponent(new Date(Date.parse(hold.end)).toISOString());
    const list = await call(app, {
      method: 'GET',
      url: `/api/v1/appointments?from=${from}&to=${to}&resource_id=${demo.resource}`,
      token: owner,
    });
    expect(list.status, list.raw).toBe(200);
    expect((list.body as { items: unknown[] }).items).toEqual([
      {
        id: hold.id,
        resource_id: demo.resource,
        service_id: demo.service,
        start: hold.start,
        end: hold.end,
        status: 'confirmed',
        service_name: expect.stringMatching(/^Public /),
        time_zone: 'America/Los_Angeles',
        start_local: expect.stringMatching(/-0[78]:00$/),
        end_local: expect.stringMatching(/-0[78]:00$/),
        conversation_id: conversation,
        customer: { name: 'Ana Ruiz', phone },
        needs_attention: false,
        calendar_conflicts: [],
      },
    ]);
    // The conversation is the caller's thread: the code text is in it.
    const thread = await call(app, {
      method: 'GET',
      url: `/api/v1/conversations/${conversation}`,
      token: owner,
    });
    expect(thread.status).toBe(200);
    expect((thread.body as { caller: string }).caller).toBe(phone);
  });

  it("links to the caller's existing conversation instead of opening another", async () => {
    const phone = newPhone();
    await placePublicHold(demo, phone);
    const first = await conversationOf(demo, phone);
    await codeTextedTo(phone);
    await placePublicHold(demo, phone);
    expect(await conversationOf(demo, phone)).toBe(first);
  });

  it('answers a wrong code with 422 and keeps the hold', async () => {
    const phone = newPhone();
    const hold = await placePublicHold(demo, phone);
    const code = await codeTextedTo(phone);
    const wrong = code === '000000' ? '000001' : '000000';
    expectError(await book(demo, hold.id, wrong), 422, 'unprocessable');
    expect(await publicSlots(demo)).not.toContain(hold.start);
    expect((await book(demo, hold.id, code)).status).toBe(201);
  });

  it('releases the hold at the fifth wrong code: the slot is free again and the right code no longer books', async () => {
    const phone = newPhone();
    const hold = await placePublicHold(demo, phone);
    const code = await codeTextedTo(phone);
    const wrong = code === '999999' ? '999998' : '999999';
    for (let i = 1; i <= 4; i++) {
      expectError(await book(demo, hold.id, wrong), 422, 'unprocessable');
      expect(await publicSlots(demo), `after ${i} wrong codes`).not.toContain(hold.start);
    }
    expectError(await book(demo, hold.id, wrong), 422, 'unprocessable');
    expect(await publicSlots(demo)).toContain(hold.start);
    expectError(await book(demo, hold.id, code), 409, 'conflict');
  });

  it('honours X-Idempotency-Key: a replayed hold is the same hold, and one text', async () => {
    const phone = newPhone();
    const slot = nextSlot(demo);
    const key = `public-${randomUUID()}`;
    const first = await holdRequest(demo, phone, { slot, key });
    const again = await holdRequest(demo, phone, { slot, key });
    expect(first.status, first.raw).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await codeTextedTo(phone);
    const { texts } = await outboundOf(demo, phone);
    expect(texts).toHaveLength(1);
  });
});

describe('limits and guards', () => {
  it('refuses a fourth live hold of one phone with 429 and Retry-After; another phone still holds', async () => {
    const phone = newPhone();
    for (let i = 0; i < 3; i++) await placePublicHold(demo, phone);
    const fourth = await holdRequest(demo, phone);
    expectError(fourth, 429, 'rate_limited');
    const retryAfter = Number(fourth.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    await placePublicHold(demo, newPhone());
  });

  it('sends nothing to an opted-out phone (the hold is answered the same)', async () => {
    const phone = newPhone();
    await recordOptOut(t.system.db, t.demo.id, phone, 'keyword');
    await placePublicHold(demo, phone);
    // The text would have been written with the hold, in the same transaction as the 201.
    const { conversation, texts, suppressed } = await outboundOf(demo, phone);
    expect(conversation).not.toBeNull();
    expect(texts).toEqual([]);
    expect(suppressed).toEqual(['opted_out']);
    expect(t.sandbox.messages().filter((m) => m.to === phone)).toEqual([]);
  });

  it('sends nothing while the 10DLC campaign is not approved', async () => {
    const phone = newPhone();
    await placePublicHold(pending, phone);
    const { texts, suppressed } = await outboundOf(pending, phone);
    expect(texts).toEqual([]);
    expect(suppressed).toEqual(['campaign_not_approved']);
    expect(t.sandbox.messages().filter((m) => m.to === phone)).toEqual([]);
  });

  it('answers 404 for a tenant without public booking, exactly as for an unknown slug', async () => {
    const unknown = `nobody-${randomUUID().slice(0, 8)}`;
    const requests = (slug: string) => [
      { method: 'GET', url: `/api/public/${slug}/services` },
      { method: 'GET', url: `/api/public/${slug}/availability?service_id=${closed.service}` },
      {
        method: 'POST',
        url: `/api/public/${slug}/holds`,
        body: {
          service_id: closed.service,
          resource_id: closed.resource,
          start: closed.slots[0],
          customer: { name: 'Ana', phone: newPhone() },
        },
      },
      { method: 'DELETE', url: `/api/public/${slug}/holds/${randomUUID()}` },
      {
        method: 'POST',
        url: `/api/public/${slug}/bookings`,
        body: { hold_id: randomUUID(), code: '123456' },
      },
    ];
    const [off, none] = [requests(closed.tenant.slug), requests(unknown)];
    for (const [i, request] of off.entries()) {
      const a = await call(app, request);
      const b = await call(app, none[i] as typeof request);
      expectError(a, 404, 'not_found');
      expect(errorOf(a).message, request.url).toBe(errorOf(b).message);
    }
    const { rows } = await t.system.db.query('SELECT 1 FROM sched_reservations WHERE tenant_id = $1', [
      closed.tenant.id,
    ]);
    expect(rows).toEqual([]);
  });

  it('refuses an invalid phone or name with 400 and holds nothing', async () => {
    const before = await publicSlots(demo);
    for (const customer of [
      { name: 'Ana', phone: '3105551212' },
      { name: 'Ana', phone: '+1555' },
      { name: 'Ana', phone: '+1 310 555 1212' },
      { name: 'Ana', phone: '+13105551212 ext. 5' },
      { name: '   ', phone: '+13105551213' },
      { name: 'x'.repeat(101), phone: '+13105551213' },
      { name: 'Ana\u0000', phone: '+13105551213' },
      { phone: '+13105551213' },
    ]) {
      const res = await call(app, {
        method: 'POST',
        url: `/api/public/${t.demo.slug}/holds`,
        body: { service_id: demo.service, resource_id: demo.resource, start: before[0], customer },
      });
      expectError(res, 400, 'validation_failed');
    }
    const noCustomer = await call(app, {
      method: 'POST',
      url: `/api/public/${t.demo.slug}/holds`,
      body: { service_id: demo.service, resource_id: demo.resource, start: before[0] },
    });
    expectError(noCustomer, 400, 'validation_failed');
    expect(await publicSlots(demo)).toContain(before[0]);
  });

  it("answers 404 for another tenant's hold, and for a hold not placed through the public page", async () => {
    const phone = newPhone();
    const theirs = await placePublicHold(pending, phone);
    expectError(await book(demo, theirs.id, '123456'), 404, 'not_found');
    const del = await call(app, { method: 'DELETE', url: `/api/public/${t.demo.slug}/holds/${theirs.id}` });
    expectError(del, 404, 'not_found');
    // The other tenant's hold is untouched.
    const { rows } = await t.system.db.query<{ status: string; failed_attempts: number }>(
      `SELECT r.status, c.failed_attempts FROM sched_reservations r
       JOIN sched_booking_codes c ON c.tenant_id = r.tenant_id AND c.hold_id = r.id
       WHERE r.tenant_id = $1 AND r.id = $2`,
      [pending.tenant.id, theirs.id],
    );
    expect(rows).toEqual([{ status: 'live', failed_attempts: 0 }]);

    const operatorHold = await inTransaction(t.system.db, (client) =>
      placeHold(client, {
        tenantId: t.demo.id,
        serviceId: demo.service,
        resourceId: demo.resource,
        start: nextSlot(demo),
        now: new Date().toISOString(),
        holdTtlMinutes: 15,
        boss: t.system.boss,
      }),
    );
    expectError(await book(demo, operatorHold.id, '123456'), 404, 'not_found');
    const release = await call(app, {
      method: 'DELETE',
      url: `/api/public/${t.demo.slug}/holds/${operatorHold.id}`,
    });
    expectError(release, 404, 'not_found');
  });

  it('releases its own public hold (204), and the slot is free again', async () => {
    const hold = await placePublicHold(demo, newPhone());
    const res = await call(app, { method: 'DELETE', url: `/api/public/${t.demo.slug}/holds/${hold.id}` });
    expect(res.status, res.raw).toBe(204);
    expect(await publicSlots(demo)).toContain(hold.start);
  });
});

describe('rate limit on the public API', () => {
  const LIMIT = 4;
  let limited: TestSystem;

  beforeAll(async () => {
    limited = await startTestSystem({ RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  }, 60_000);
  afterAll(async () => {
    await limited?.stop();
  });

  it('counts requests for unknown slugs like any other: 429 after the limit', async () => {
    const limitedApp = appOf(limited.system);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const res = await call(limitedApp, { method: 'GET', url: `/api/public/nobody-${i}/services` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(404), 429, 429]);
    // The demo's own slug shares the address's budget.
    const known = await call(limitedApp, { method: 'GET', url: `/api/public/${limited.demo.slug}/services` });
    expectError(known, 429, 'rate_limited');
  });
});
