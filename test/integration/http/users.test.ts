import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// An OWNER manages the tenant's users: roles and deactivation. The last active OWNER can be neither
// demoted nor deactivated (nobody could manage the business any more), two owners demoting each
// other at once cannot both succeed, and a deactivated user's very next request is refused whatever
// token it carries.

let t: TestSystem;
let app: App;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
});
afterAll(async () => {
  await t?.stop();
});

type Member = { id: string; token: string; subject: string };

/** A fresh tenant with `owners` OWNERs and one TECH, each seen once by the API (so id_users has them). */
async function team(owners: number): Promise<{ tenant: Tenant; owners: Member[]; tech: Member }> {
  const org = `org_users_${randomUUID().slice(0, 8)}`;
  const tenant = await seedTenant(t.system.db, { auth_org_id: org });
  const member = async (role: 'OWNER' | 'TECH'): Promise<Member> => {
    const subject = `${role.toLowerCase()}_${randomUUID()}`;
    const token = await tokenFor(t.system, { subject, role, org });
    const seen = await call(app, { method: 'GET', url: '/api/v1/conversations', token });
    expect(seen.status).toBe(200);
    const { rows } = await t.system.db.query<{ id: string }>(
      'SELECT id FROM id_users WHERE tenant_id = $1 AND auth_subject = $2',
      [tenant.id, subject],
    );
    return { id: rows[0]?.id ?? '', token, subject };
  };
  const list: Member[] = [];
  for (let i = 0; i < owners; i++) list.push(await member('OWNER'));
  return { tenant, owners: list, tech: await member('TECH') };
}

const patch = (token: string, id: string, body: unknown) =>
  call(app, { method: 'PATCH', url: `/api/v1/users/${id}`, token, body });

describe('the last OWNER', () => {
  it('cannot demote themselves: 409 conflict saying why, and nothing changes', async () => {
    const { owners } = await team(1);
    const [owner] = owners as [Member];
    const res = await patch(owner.token, owner.id, { role: 'TECH' });
    expect(res.status, res.raw).toBe(409);
    expect(errorOf(res)).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('last active OWNER'),
    });
    const users = await call(app, { method: 'GET', url: '/api/v1/users', token: owner.token });
    expect(users.status).toBe(200);
  });

  it('cannot be deactivated, by PATCH or DELETE', async () => {
    const { owners } = await team(1);
    const [owner] = owners as [Member];
    expect((await patch(owner.token, owner.id, { active: false })).status).toBe(409);
    const del = await call(app, { method: 'DELETE', url: `/api/v1/users/${owner.id}`, token: owner.token });
    expect(del.status).toBe(409);
    expect((await call(app, { method: 'GET', url: '/api/v1/users', token: owner.token })).status).toBe(200);
  });

  it('can step down once another OWNER exists', async () => {
    const { owners, tech } = await team(1);
    const [owner] = owners as [Member];
    const promoted = await patch(owner.token, tech.id, { role: 'OWNER' });
    expect(promoted.status, promoted.raw).toBe(200);
    const stepped = await patch(owner.token, owner.id, { role: 'TECH' });
    expect(stepped.status, stepped.raw).toBe(200);
    expect(stepped.body).toMatchObject({ role: 'TECH', active: true });
  });

  it('survives two OWNERs demoting each other at the same moment: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const { tenant, owners } = await team(2);
      const [a, b] = owners as [Member, Member];
      const results = await Promise.all([
        patch(a.token, b.id, { role: 'TECH' }),
        patch(b.token, a.id, { role: 'TECH' }),
      ]);
      const statuses = results.map((r) => r.status).sort();
      // The loser is either refused as the last owner (409) or, demoted first, no longer allowed (403).
      expect(statuses[0]).toBe(200);
      expect([403, 409]).toContain(statuses[1]);
      const { rows } = await t.system.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM id_users WHERE tenant_id = $1 AND role = 'OWNER' AND active",
        [tenant.id],
      );
      expect(rows[0]?.n).toBe(1);
    }
  });

  it('survives two OWNERs deactivating each other at the same moment: one OWNER stays active', async () => {
    for (let round = 0; round < 5; round++) {
      const { tenant, owners } = await team(2);
      const [a, b] = owners as [Member, Member];
      await Promise.all([
        call(app, { method: 'DELETE', url: `/api/v1/users/${b.id}`, token: a.token }),
        call(app, { method: 'DELETE', url: `/api/v1/users/${a.id}`, token: b.token }),
      ]);
      const { rows } = await t.system.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM id_users WHERE tenant_id = $1 AND role = 'OWNER' AND active",
        [tenant.id],
      );
      expect(rows[0]?.n).toBe(1);
    }
  });
});

describe('deactivation', () => {
  it("refuses a deactivated user's next request at once, with the token they hold and with a fresh one", async () => {
    const { tenant, owners, tech } = await team(1);
    const [owner] = owners as [Member];
    const del = await call(app, { method: 'DELETE', url: `/api/v1/users/${tech.id}`, token: owner.token });
    expect(del.status, del.raw).toBe(204);
    const after = await call(app, { method: 'GET', url: '/api/v1/conversations', token: tech.token });
    expect(after.status).toBe(403);
    expect(errorOf(after).code).toBe('forbidden');
    const fresh = await tokenFor(t.system, { subject: tech.subject, role: 'TECH', org: tenant.auth_org_id });
    expect((await call(app, { method: 'GET', url: '/api/v1/conversations', token: fresh })).status).toBe(403);
    // Seeing the user again does not reactivate them.
    const { rows } = await t.system.db.query<{ active: boolean }>(
      'SELECT active FROM id_users WHERE tenant_id = $1 AND id = $2',
      [tenant.id, tech.id],
    );
    expect(rows[0]?.active).toBe(false);
  });

  it('lists deactivated users as inactive, and an OWNER can reactivate them', async () => {
    const { owners, tech } = await team(1);
    const [owner] = owners as [Member];
    expect((await patch(owner.token, tech.id, { active: false })).status).toBe(200);
    const list = await call(app, { method: 'GET', url: '/api/v1/users', token: owner.token });
    expect((list.body as { items: { id: string; active: boolean }[] }).items).toContainEqual(
      expect.objectContaining({ id: tech.id, active: false }),
    );
    expect((await patch(owner.token, tech.id, { active: true })).status).toBe(200);
    expect((await call(app, { method: 'GET', url: '/api/v1/conversations', token: tech.token })).status).toBe(
      200,
    );
  });

  it("answers 404 for another tenant's user and for one that does not exist, 400 for an empty change", async () => {
    const mine = await team(1);
    const theirs = await team(1);
    const [owner] = mine.owners as [Member];
    expect(
      (await call(app, { method: 'DELETE', url: `/api/v1/users/${theirs.tech.id}`, token: owner.token }))
        .status,
    ).toBe(404);
    expect((await patch(owner.token, randomUUID(), { active: false })).status).toBe(404);
    expect((await patch(owner.token, mine.tech.id, {})).status).toBe(400);
    expect((await patch(owner.token, mine.tech.id, { active: 'no' })).status).toBe(400);
    const { rows } = await t.system.db.query<{ active: boolean }>(
      'SELECT active FROM id_users WHERE id = $1',
      [theirs.tech.id],
    );
    expect(rows[0]?.active).toBe(true);
  });
});
