import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { appOf, call, settleOutbound, startConversation, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// What every team inbox has, through the operator API: assign a conversation to a teammate (it is
// theirs as if they took it over; audited), internal notes (stored, shown to the team, never sent),
// and the business's quick replies (the owner keeps them; everyone reads them).

let t: TestSystem;
let app: App;
let owner: string;
let tech: string;
let ownerId: string;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  owner = await tokenFor(t.system, {
    subject: 'team_owner',
    role: 'OWNER',
    org: 'org_demo',
    email: 'pat@demo.test',
  });
  tech = await tokenFor(t.system, {
    subject: 'team_tech',
    role: 'TECH',
    org: 'org_demo',
    email: 'sam@demo.test',
  });
  // Both are users once they have called the API.
  const teammates = await call(app, { method: 'GET', url: '/api/v1/teammates', token: owner });
  await call(app, { method: 'GET', url: '/api/v1/teammates', token: tech });
  ownerId = (teammates.body as { items: Array<{ id: string; name: string }> }).items.find(
    (u) => u.name === 'pat@demo.test',
  )?.id as string;
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

describe('assign', () => {
  it('hands the conversation to the teammate as if they took it over, and audits who assigned it', async () => {
    const id = await startConversation(t.system, t.demo.id, '+13105550171');
    const res = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/assign`,
      token: tech,
      body: { user_id: ownerId },
    });
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toEqual({ id, state: 'human', assigned_to: ownerId });
    const { rows } = await t.system.db.query(
      `SELECT actor, action, result FROM audit_logs WHERE tenant_id = $1 AND action = 'conversations.assign'`,
      [t.demo.id],
    );
    expect(rows).toContainEqual({ actor: 'team_tech', action: 'conversations.assign', result: 'success' });
  });

  it('refuses a user who is not an active teammate (404) and a closed conversation (409)', async () => {
    const id = await startConversation(t.system, t.demo.id, '+13105550172');
    const stranger = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/assign`,
      token: tech,
      body: { user_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(stranger.status).toBe(404);
    await call(app, { method: 'POST', url: `/api/v1/conversations/${id}/close`, token: tech, body: {} });
    const closed = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/assign`,
      token: tech,
      body: { user_id: ownerId },
    });
    expect(closed.status).toBe(409);
  });
});

describe('internal notes', () => {
  it('are stored and listed for the team with their author, and never sent to the caller', async () => {
    const caller = '+13105550173';
    const id = await startConversation(t.system, t.demo.id, caller);
    await settleOutbound(t);
    const textsBefore = t.sandbox.messages().filter((m) => m.to === caller).length;
    const posted = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/notes`,
      token: tech,
      body: { body: 'Called back, no answer; the gate code is 4411.' },
    });
    expect(posted.status, posted.raw).toBe(201);
    expect(posted.body).toMatchObject({ author_name: 'sam@demo.test', conversation_id: id });
    const listed = await call(app, { method: 'GET', url: `/api/v1/conversations/${id}/notes`, token: owner });
    expect((listed.body as { items: Array<{ body: string }> }).items.map((n) => n.body)).toEqual([
      'Called back, no answer; the gate code is 4411.',
    ]);
    const detail = await call(app, { method: 'GET', url: `/api/v1/conversations/${id}`, token: owner });
    expect(JSON.stringify(detail.body)).not.toContain('gate code');
    await settleOutbound(t);
    expect(t.sandbox.messages().filter((m) => m.to === caller)).toHaveLength(textsBefore);
  });
});

describe('quick replies', () => {
  it('are kept by the owner, in order, and read by every operator', async () => {
    const items = [
      { title: 'On our way', body: 'Sam here, on our way, about 20 minutes out.' },
      { title: 'Call back', body: 'Sorry we missed you! Can we call you back at this number?' },
    ];
    const put = await call(app, {
      method: 'PUT',
      url: '/api/v1/quick-replies',
      token: owner,
      body: { items },
    });
    expect(put.status, put.raw).toBe(200);
    const read = await call(app, { method: 'GET', url: '/api/v1/quick-replies', token: tech });
    expect(read.body).toEqual({ items });
    const techPut = await call(app, {
      method: 'PUT',
      url: '/api/v1/quick-replies',
      token: tech,
      body: { items: [] },
    });
    expect(techPut.status).toBe(403);
  });
});

describe('booking for a caller', () => {
  it("holds and books a time for the conversation's caller, shown with the caller on the appointment", async () => {
    const caller = '+13105550174';
    const id = await startConversation(t.system, t.demo.id, caller);
    const services = await call(app, { method: 'GET', url: '/api/v1/services', token: tech });
    const service = (services.body as { items: Array<{ id: string; active: boolean }> }).items.find(
      (x) => x.active,
    );
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const open = await call(app, {
      method: 'GET',
      url: `/api/v1/availability?service_id=${service?.id}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      token: tech,
    });
    const slot = (open.body as { items: Array<{ resource_id: string; start: string }> }).items[0];
    const held = await call(app, {
      method: 'POST',
      url: '/api/v1/holds',
      token: tech,
      body: {
        service_id: service?.id,
        resource_id: slot?.resource_id,
        start: slot?.start,
        conversation_id: id,
      },
    });
    expect(held.status, held.raw).toBe(201);
    const holdId = (held.body as { id: string }).id;
    const booked = await call(app, {
      method: 'POST',
      url: `/api/v1/holds/${holdId}/confirm`,
      token: tech,
      body: {},
    });
    expect(booked.status, booked.raw).toBe(201);
    expect(booked.body).toMatchObject({ conversation_id: id, customer: { phone: caller } });

    const strange = await call(app, {
      method: 'POST',
      url: '/api/v1/holds',
      token: tech,
      body: {
        service_id: service?.id,
        resource_id: slot?.resource_id,
        start: slot?.start,
        conversation_id: '00000000-0000-4000-8000-000000000000',
      },
    });
    expect(strange.status).toBe(404);
  });
});
