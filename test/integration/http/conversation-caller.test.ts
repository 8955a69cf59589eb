import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../../src/persistence/db.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { recordOptOut } from '../../../src/persistence/repositories/compliance.ts';
import { setReservationCustomer } from '../../../src/persistence/repositories/scheduling/booking-codes.ts';
import { createResource } from '../../../src/persistence/repositories/scheduling/resources.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { findAvailability } from '../../../src/runtime/scheduling/find-availability.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import { loadSchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { appOf, call, settleOutbound, startConversation, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// What the inbox and the thread show about a caller: the name they booked under (the tenant's own
// bookings only), and why nothing can be sent to them (opted out, the business's 10DLC campaign
// not approved), the same gates the send job checks.

const ALL_DAY = [{ start: '00:00', end: '24:00' }];
const ALWAYS_OPEN = { 1: ALL_DAY, 2: ALL_DAY, 3: ALL_DAY, 4: ALL_DAY, 5: ALL_DAY, 6: ALL_DAY, 7: ALL_DAY };

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

let phoneCounter = 0;
function newPhone(): string {
  phoneCounter += 1;
  return `+1310555${String(2000 + phoneCounter).slice(-4)}`;
}

/** A hold for `phone` under `name`, as public booking records its customer. */
async function bookUnderName(tenant: Tenant, phone: string, name: string): Promise<void> {
  const db = t.system.db;
  const service = await createService(db, tenant.id, {
    name: `Caller name ${randomUUID()}`,
    duration_minutes: 30,
    price: { amount_cents: 5000, currency: 'USD' },
  });
  const resource = await createResource(db, tenant.id, {
    name: 'Crew',
    time_zone: 'UTC',
    weekly_hours: ALWAYS_OPEN,
  });
  const found = await findAvailability(db, {
    tenantId: tenant.id,
    serviceId: service.id,
    resourceId: resource.id,
    from: new Date(Date.now() + 2 * 3_600_000).toISOString(),
    to: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    now: new Date().toISOString(),
    settings: await loadSchedulingSettings(db, tenant.id, { holdTtlMinutes: 15 }),
  });
  const start = found.items[0]?.start;
  if (!start) throw new Error('no free slot');
  const hold = await inTransaction(db, (client) =>
    placeHold(client, {
      tenantId: tenant.id,
      serviceId: service.id,
      resourceId: resource.id,
      start,
      now: new Date().toISOString(),
      holdTtlMinutes: 15,
      boss: t.system.boss,
    }),
  );
  await setReservationCustomer(db, tenant.id, hold.id, { name, phone });
}

type Row = { id: string; caller: string; caller_name: string | null };
type Detail = Row & { sending_blocked: { reason: string; message: string } | null };

async function ownerToken(tenant: Tenant): Promise<string> {
  return tokenFor(t.system, { subject: `owner_${tenant.slug}`, role: 'OWNER', org: tenant.auth_org_id });
}

async function inboxRow(tenant: Tenant, caller: string): Promise<Row | undefined> {
  const res = await call(appOf(t.system), {
    method: 'GET',
    url: `/api/v1/conversations?caller=${encodeURIComponent(caller.slice(1))}`,
    token: await ownerToken(tenant),
  });
  expect(res.status).toBe(200);
  return (res.body as { items: Row[] }).items.find((r) => r.caller === caller);
}

async function detailOf(tenant: Tenant, id: string): Promise<Detail> {
  const res = await call(appOf(t.system), {
    method: 'GET',
    url: `/api/v1/conversations/${id}`,
    token: await ownerToken(tenant),
  });
  expect(res.status).toBe(200);
  return res.body as Detail;
}

describe('the caller in the inbox and the thread', () => {
  it("shows the name the caller booked under, from the tenant's own bookings only", async () => {
    const [a, b] = [await seedTenant(t.system.db), await seedTenant(t.system.db)];
    const phone = newPhone();
    const inA = await startConversation(t.system, a.id, phone);
    const inB = await startConversation(t.system, b.id, phone);
    // Another business knows this number by a name: this one does not.
    await bookUnderName(b, phone, 'Maria Other');
    expect((await inboxRow(a, phone))?.caller_name).toBeNull();
    expect((await detailOf(a, inA)).caller_name).toBeNull();
    expect((await inboxRow(b, phone))?.caller_name).toBe('Maria Other');

    await bookUnderName(a, phone, 'Dana Own');
    expect((await inboxRow(a, phone))?.caller_name).toBe('Dana Own');
    expect((await detailOf(a, inA)).caller_name).toBe('Dana Own');
    expect((await detailOf(b, inB)).caller_name).toBe('Maria Other');
  });

  it('says why nothing can be sent: the caller opted out, or the campaign is not approved', async () => {
    const approved = await seedTenant(t.system.db);
    const phone = newPhone();
    const id = await startConversation(t.system, approved.id, phone);
    expect((await detailOf(approved, id)).sending_blocked).toBeNull();
    await recordOptOut(t.system.db, approved.id, phone, 'keyword');
    expect((await detailOf(approved, id)).sending_blocked).toMatchObject({
      reason: 'opted_out',
      message: expect.stringContaining('STOP'),
    });

    for (const campaign of ['pending', 'rejected', 'none'] as const) {
      const tenant = await seedTenant(t.system.db, { campaign });
      const conversation = await startConversation(t.system, tenant.id, newPhone());
      const blocked = (await detailOf(tenant, conversation)).sending_blocked;
      expect(blocked?.reason).toBe('campaign_not_approved');
      expect(blocked?.message).toContain('10DLC');
    }
  });
});
