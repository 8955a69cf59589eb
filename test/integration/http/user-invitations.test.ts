import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { appOf, call, errorOf, settleOutbound, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// An OWNER invites someone by email with a role: the invitation is listed as pending, and that
// person's first request (a token of the business's organisation carrying that email) takes it up,
// with the invited role as the ceiling. Only an OWNER invites; bad input and a second invitation
// for the same email write nothing; an invitation belongs to its tenant only.

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

type User = { id: string; email: string | null; role: string; active: boolean; pending: boolean };

async function as(tenant: Tenant, subject: string, role: 'OWNER' | 'TECH', email?: string) {
  return tokenFor(t.system, { subject, role, org: tenant.auth_org_id, ...(email ? { email } : {}) });
}

async function users(tenant: Tenant): Promise<User[]> {
  const res = await call(appOf(t.system), {
    method: 'GET',
    url: '/api/v1/users',
    token: await as(tenant, `owner_${tenant.slug}`, 'OWNER'),
  });
  expect(res.status).toBe(200);
  return (res.body as { items: User[] }).items;
}

async function invite(token: string, body: unknown) {
  return call(appOf(t.system), { method: 'POST', url: '/api/v1/users', token, body });
}

describe('inviting users', () => {
  it('lists the invitation as pending until that person signs in, then binds it with its role', async () => {
    const tenant = await seedTenant(t.system.db);
    const owner = await as(tenant, `owner_${tenant.slug}`, 'OWNER');
    const res = await invite(owner, { email: 'Riley@Example.com', role: 'TECH' });
    expect(res.status).toBe(201);
    const invited = res.body as User;
    expect(invited).toMatchObject({ email: 'riley@example.com', role: 'TECH', active: true, pending: true });
    expect((await users(tenant)).find((u) => u.id === invited.id)?.pending).toBe(true);

    // Riley's organisation token says admin; the invitation says TECH: Riley is a TECH.
    const riley = await as(tenant, 'user_riley', 'OWNER', 'riley@example.com');
    const refused = await call(appOf(t.system), { method: 'GET', url: '/api/v1/users', token: riley });
    expect(refused.status).toBe(403);
    const after = (await users(tenant)).find((u) => u.id === invited.id);
    expect(after).toMatchObject({ pending: false, role: 'TECH' });
    expect((await users(tenant)).filter((u) => u.email === 'riley@example.com')).toHaveLength(1);
  });

  it('refuses a second invitation for an email already there, bad input, and a TECH inviting', async () => {
    const tenant = await seedTenant(t.system.db);
    const owner = await as(tenant, `owner_${tenant.slug}`, 'OWNER');
    expect((await invite(owner, { email: 'sam@example.com', role: 'OWNER' })).status).toBe(201);
    const again = await invite(owner, { email: 'SAM@example.com', role: 'TECH' });
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('conflict');
    for (const body of [
      { email: 'not an email', role: 'TECH' },
      { email: 'x@example.com', role: 'STAFF' },
      { email: 'x@example.com', role: 'TECH', tenant_id: tenant.id },
      {},
    ]) {
      const bad = await invite(owner, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    const tech = await as(tenant, 'user_tech', 'TECH');
    expect((await invite(tech, { email: 'y@example.com', role: 'TECH' })).status).toBe(403);
    const emails = (await users(tenant)).map((u) => u.email);
    expect(emails.filter((e) => e === 'sam@example.com')).toHaveLength(1);
    expect(emails).not.toContain('x@example.com');
    expect(emails).not.toContain('y@example.com');
  });

  it('binds an invitation only in its own tenant, and a pending OWNER is not an owner to fall back on', async () => {
    const [a, b] = [await seedTenant(t.system.db), await seedTenant(t.system.db)];
    const ownerA = await as(a, `owner_${a.slug}`, 'OWNER');
    expect((await invite(ownerA, { email: 'kim@example.com', role: 'OWNER' })).status).toBe(201);
    // Kim signs in to the other business: a user there, the invitation here still waits.
    const kimInB = await as(b, 'user_kim', 'TECH', 'kim@example.com');
    expect(
      (await call(appOf(t.system), { method: 'GET', url: '/api/v1/conversations', token: kimInB })).status,
    ).toBe(200);
    expect((await users(a)).find((u) => u.email === 'kim@example.com')?.pending).toBe(true);
    expect((await users(b)).find((u) => u.email === 'kim@example.com')?.pending).toBe(false);

    // The only signed-in OWNER of A cannot step down on the strength of a pending invitation.
    const me = (await users(a)).find((u) => !u.pending && u.role === 'OWNER');
    const demote = await call(appOf(t.system), {
      method: 'PATCH',
      url: `/api/v1/users/${me?.id}`,
      token: ownerA,
      body: { role: 'TECH' },
    });
    expect(demote.status).toBe(409);
  });
});
