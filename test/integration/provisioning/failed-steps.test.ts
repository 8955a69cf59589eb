import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// Convergence's dead letters through the staff API: a step that failed for good (here a brand the
// carrier rejected) is listed by GET /api/staff/provisioning/failed-steps (what `nmc dead-letters
// list` prints) until a replay (POST /api/staff/tenants/:id/converge, `nmc dead-letters
// replay-steps`) runs it again.

type Failed = {
  tenant_id: string;
  step: string;
  attempts: number;
  last_error: string | null;
  failed_at: string;
};

let t: TestSystem;
let staff: string;
beforeAll(async () => {
  t = await startTestSystem();
  staff = await tokenFor(t.system, { subject: 'failed_steps_staff', role: 'STAFF' });
});
afterAll(async () => {
  await t?.stop();
});

const api = (method: string, url: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token: staff, ...(body === undefined ? {} : { body }) });

describe('failed provisioning steps', () => {
  it('are listed with their reason, and a replay runs them again', async () => {
    const empty = await api('GET', '/api/staff/provisioning/failed-steps');
    expect(empty.status, empty.raw).toBe(200);
    expect(empty.body).toEqual({ items: [], next_cursor: null });

    t.sandbox.rejectNextBrand('TAX_ID_MISMATCH: the EIN does not match the legal name');
    const created = await api('POST', '/api/staff/tenants', {
      slug: 'rejected-brand',
      name: 'Rejected Brand Plumbing',
      time_zone: 'America/Chicago',
      auth_org_id: 'org_rejected_brand',
      forwarding_phone: '+13125550133',
      area_code: '312',
    });
    expect(created.status, created.raw).toBe(201);
    const tenantId = (created.body as { tenant: { id: string } }).tenant.id;

    const failed = await waitFor(async () => {
      const res = await api('GET', '/api/staff/provisioning/failed-steps');
      return (res.body as { items: Failed[] }).items.find((s) => s.tenant_id === tenantId) ?? null;
    }, 20_000);
    expect(failed).toMatchObject({
      step: 'ten_dlc_brand',
      last_error: expect.stringContaining('TAX_ID_MISMATCH'),
    });
    expect(Date.parse(failed.failed_at)).not.toBeNaN();

    const replay = await api('POST', `/api/staff/tenants/${tenantId}/converge`);
    expect(replay.body).toEqual({ replayed_steps: 1 });
    // The replay ran the step again: with the same registration data the carrier rejects it again
    // (new data would be a PATCH of the desired state), so it is listed again, failed later.
    const again = await waitFor(async () => {
      const res = await api('GET', '/api/staff/provisioning/failed-steps');
      const step = (res.body as { items: Failed[] }).items.find((s) => s.tenant_id === tenantId);
      return step && step.failed_at > failed.failed_at ? step : null;
    }, 20_000);
    expect(again).toMatchObject({ step: 'ten_dlc_brand', attempts: 1 });
  });

  it('are refused to anyone but staff', async () => {
    const owner = await tokenFor(t.system, { subject: 'failed_steps_owner', role: 'OWNER', org: 'org_demo' });
    const res = await call(appOf(t.system), {
      method: 'GET',
      url: '/api/staff/provisioning/failed-steps',
      token: owner,
    });
    expect(res.status).toBe(403);
  });
});
