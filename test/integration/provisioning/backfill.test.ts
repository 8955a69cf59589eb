import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// Backfill (POST /api/staff/tenants/:id/backfill, `nmc tenants backfill`): our record of a
// provisioned tenant is wiped — its number, its Stripe customer and subscription mirror, its
// campaign status — and rebuilt from the Twilio and Stripe sandboxes alone.

let t: TestSystem;
let staff: string;
beforeAll(async () => {
  t = await startTestSystem();
  staff = await tokenFor(t.system, { subject: 'backfill_staff', role: 'STAFF' });
});
afterAll(async () => {
  await t?.stop();
});

const api = (method: string, url: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token: staff, ...(body === undefined ? {} : { body }) });
const one = async (sql: string, values: unknown[]) => (await t.system.db.query(sql, values)).rows[0];

describe('backfill', () => {
  it("rebuilds a tenant's number, customer, subscription mirror and campaign status from the providers", async () => {
    const created = await api('POST', '/api/staff/tenants', {
      slug: 'backfilled',
      name: 'Backfilled Plumbing',
      time_zone: 'America/Denver',
      auth_org_id: 'org_backfilled',
      forwarding_phone: '+17205550120',
      area_code: '720',
      plan: 'starter',
    });
    expect(created.status, created.raw).toBe(201);
    const id = (created.body as { tenant: { id: string } }).tenant.id;
    await waitFor(async () => {
      const row = await one('SELECT converged_at FROM prov_desired_states WHERE tenant_id = $1', [id]);
      return row?.converged_at ? true : null;
    }, 30_000);
    const before = {
      number: (await one('SELECT twilio_number FROM id_tenants WHERE id = $1', [id])).twilio_number,
      customer: (await one('SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1', [id]))
        .stripe_customer_id,
    };
    expect(before.number).toMatch(/^\+1720/);
    expect(before.customer).toMatch(/^cus_/);

    // Our record is lost (a restore from an old backup, rows deleted by hand).
    await t.system.db.query('UPDATE id_tenants SET twilio_number = NULL WHERE id = $1', [id]);
    await t.system.db.query('DELETE FROM bill_subscriptions WHERE tenant_id = $1', [id]);
    await t.system.db.query('UPDATE bill_customers SET stripe_customer_id = NULL WHERE tenant_id = $1', [id]);
    await t.system.db.query("UPDATE comp_campaigns SET status = 'pending' WHERE tenant_id = $1", [id]);

    const res = await api('POST', `/api/staff/tenants/${id}/backfill`);
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toEqual({
      number: before.number,
      numbers_found: 1,
      stripe_customer: before.customer,
      subscriptions: 1,
      campaign: 'approved',
      campaign_rechecked: true,
    });
    expect((await one('SELECT twilio_number FROM id_tenants WHERE id = $1', [id])).twilio_number).toBe(
      before.number,
    );
    expect(
      (await one('SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1', [id]))
        .stripe_customer_id,
    ).toBe(before.customer);
    const billing = await t.system.db.query('SELECT status FROM bill_subscriptions WHERE tenant_id = $1', [
      id,
    ]);
    expect(billing.rows).toEqual([{ status: 'active' }]);
    // The campaign's own step writes the compliance record again.
    await waitFor(async () => {
      const row = await one('SELECT status FROM comp_campaigns WHERE tenant_id = $1', [id]);
      return row?.status === 'approved' ? true : null;
    }, 20_000);

    // A second backfill finds nothing to change.
    const again = await api('POST', `/api/staff/tenants/${id}/backfill`);
    expect(again.body).toMatchObject({
      number: before.number,
      campaign: 'approved',
      campaign_rechecked: false,
    });
  });

  it('answers 404 for a tenant that does not exist', async () => {
    const res = await api('POST', '/api/staff/tenants/00000000-0000-4000-8000-000000000001/backfill');
    expect(res.status).toBe(404);
  });
});
