import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { portalLinks } from '../../../src/runtime/portal/portal-links.ts';
import { appOf, call, settleOutbound, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';
import { bookByText } from '../../helpers/texting-caller.ts';

// The customer's page lists every upcoming booking the customer has with the business, not only
// the one its link names, and the customer may move or cancel those too (`?booking_id=`): a booking
// is theirs when its customer (the public page's) or the caller of the conversation that booked it
// has the link's phone. Another customer's booking is 404 on every route, as if it did not exist.

let t: TestSystem;
let owner: string;
let tenantId: string;
beforeAll(async () => {
  t = await startTestSystem();
  owner = await tokenFor(t.system, { subject: 'portal_owner', role: 'OWNER', org: DEMO.auth_org_id });
  const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    DEMO.slug,
  ]);
  tenantId = rows[0]?.id as string;
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

const operator = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token: owner, ...(body === undefined ? {} : { body }) });
const portal = (method: 'GET' | 'POST', url: string, token: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token, ...(body === undefined ? {} : { body }) });

/** An operator books an open time a week or more after `after` for the caller's conversation. */
async function operatorBooks(caller: string, after: string): Promise<string> {
  const { rows } = await t.system.db.query<{ id: string }>(
    `SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed'`,
    [tenantId, caller],
  );
  const services = await operator('GET', '/api/v1/services');
  const serviceId = (services.body as { items: { id: string }[] }).items[0]?.id;
  const from = new Date(Date.parse(after) + 7 * 86_400_000).toISOString();
  const to = new Date(Date.parse(after) + 14 * 86_400_000).toISOString();
  const open = await operator('GET', `/api/v1/availability?service_id=${serviceId}&from=${from}&to=${to}`);
  const slot = (open.body as { items: { resource_id: string; start: string }[] }).items[0];
  if (!slot) throw new Error(`no open time: ${open.raw}`);
  const hold = await operator('POST', '/api/v1/holds', {
    service_id: serviceId,
    resource_id: slot.resource_id,
    start: slot.start,
    conversation_id: rows[0]?.id,
  });
  expect(hold.status, hold.raw).toBe(201);
  const confirmed = await operator('POST', `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`, {});
  expect(confirmed.status, confirmed.raw).toBe(201);
  return (confirmed.body as { id: string }).id;
}

async function portalToken(appointmentId: string, phone: string): Promise<string> {
  const link = await portalLinks({ db: t.system.db, publicBaseUrl: 'http://x' })({
    tenantId,
    appointmentId,
    phone,
  });
  const code = link?.split('/p/')[1];
  const session = await call(appOf(t.system), {
    method: 'POST',
    url: '/api/portal/sessions',
    body: { code },
  });
  expect(session.status, session.raw).toBe(201);
  return (session.body as { token: string }).token;
}

type Listed = { items: { booking_id: string; this_link: boolean; status: string; start: string }[] };

describe("the customer's page lists and manages all their upcoming bookings", () => {
  it('lists the link`s booking and the others, manages the others, and refuses another customer`s', async () => {
    const caller = '+13105550931';
    const first = await bookByText(t, caller);
    const second = await operatorBooks(caller, first.start);
    const stranger = '+13105550932';
    const strangers = await bookByText(t, stranger);

    const token = await portalToken(first.id, caller);
    const listed = await portal('GET', '/api/portal/bookings', token);
    expect(listed.status, listed.raw).toBe(200);
    const items = (listed.body as Listed).items;
    expect(items.map((i) => [i.booking_id, i.this_link, i.status])).toEqual([
      [first.id, true, 'confirmed'],
      [second, false, 'confirmed'],
    ]);
    expect(Date.parse(items[0]?.start ?? '')).toBeLessThan(Date.parse(items[1]?.start ?? ''));

    // Another customer's booking: 404 everywhere, and it stands.
    for (const [method, url, body] of [
      ['POST', `/api/portal/booking/cancel?booking_id=${strangers.id}`, {}],
      ['POST', `/api/portal/booking/reschedule?booking_id=${strangers.id}`, { start: items[1]?.start }],
      [
        'GET',
        `/api/portal/booking/availability?booking_id=${strangers.id}&from=${new Date().toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`,
        undefined,
      ],
    ] as const) {
      const refused = await portal(method, url, token, body);
      expect(refused.status, `${method} ${url}: ${refused.raw}`).toBe(404);
    }
    const { rows: standing } = await t.system.db.query<{ status: string }>(
      'SELECT status FROM sched_reservations WHERE tenant_id = $1 AND id = $2',
      [tenantId, strangers.id],
    );
    expect(standing[0]?.status).toBe('live');

    // The customer's other booking: its times, then cancelled from the same page.
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 14 * 86_400_000).toISOString();
    const times = await portal(
      'GET',
      `/api/portal/booking/availability?booking_id=${second}&from=${from}&to=${to}`,
      token,
    );
    expect(times.status, times.raw).toBe(200);
    const cancelled = await portal('POST', `/api/portal/booking/cancel?booking_id=${second}`, token, {});
    expect(cancelled.status, cancelled.raw).toBe(200);
    expect((cancelled.body as { booking: { booking_id: string; status: string } }).booking).toMatchObject({
      booking_id: second,
      status: 'cancelled',
    });
    const after = (await portal('GET', '/api/portal/bookings', token)).body as Listed;
    expect(after.items.map((i) => i.booking_id)).toEqual([first.id]);
    // The link's own booking is untouched.
    expect((await portal('GET', '/api/portal/booking', token)).status).toBe(200);
  });
});
