import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { recordOptOut } from '../../../src/persistence/repositories/compliance.ts';
import {
  appOf,
  call,
  errorOf,
  settleOutbound,
  startConversation,
  tokenFor,
} from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// Operator actions as a client sends them: an action needs no body (none, an empty JSON body, or
// `{}`), and a text to a caller who opted out is refused with the reason, writing nothing.

let t: TestSystem;
let app: App;
let tech: string;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  tech = await tokenFor(t.system, { subject: 'actions_tech', role: 'TECH', org: 'org_demo' });
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

const JSON_TYPE = { 'content-type': 'application/json' };

describe('actions without a body', () => {
  it('takeover, release and close answer 200 with no body, an empty JSON body, or {}', async () => {
    const id = await startConversation(t.system, t.demo.id, '+13105550161');
    const sends: Array<{ body?: unknown; headers?: Record<string, string> }> = [
      {},
      { body: '', headers: JSON_TYPE },
      { body: {} },
    ];
    for (const send of sends) {
      for (const action of ['takeover', 'release']) {
        const res = await call(app, {
          method: 'POST',
          url: `/api/v1/conversations/${id}/${action}`,
          token: tech,
          ...send,
        });
        expect(res.status, `${action} ${JSON.stringify(send)}: ${res.raw}`).toBe(200);
      }
    }
    const close = await call(app, { method: 'POST', url: `/api/v1/conversations/${id}/close`, token: tech });
    expect(close.status, close.raw).toBe(200);
    expect((close.body as { conversation: { state: string } }).conversation.state).toBe('closed');
  });

  it('still refuses a body with fields, and a message without one', async () => {
    const id = await startConversation(t.system, t.demo.id, '+13105550162');
    const extra = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/takeover`,
      token: tech,
      body: { surprise: true },
    });
    expect(extra.status).toBe(400);
    const noText = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/messages`,
      token: tech,
      body: '',
      headers: JSON_TYPE,
    });
    expect(noText.status).toBe(400);
    expect(errorOf(noText).code).toBe('validation_failed');
  });

  it('confirms a hold with no body, and lists the appointment by local date or by default', async () => {
    const services = await call(app, { method: 'GET', url: '/api/v1/services', token: tech });
    const serviceId = (services.body as { items: Array<{ id: string }> }).items[0]?.id;
    const from = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 9 * 86_400_000).toISOString();
    const open = await call(app, {
      method: 'GET',
      url: `/api/v1/availability?service_id=${serviceId}&from=${from}&to=${to}`,
      token: tech,
    });
    expect(open.status, open.raw).toBe(200);
    const slot = (open.body as { items: Array<{ start: string; resource_id: string }> }).items[0];
    expect(slot).toBeDefined();
    const hold = await call(app, {
      method: 'POST',
      url: '/api/v1/holds',
      token: tech,
      body: { service_id: serviceId, resource_id: slot?.resource_id, start: slot?.start },
    });
    expect(hold.status, hold.raw).toBe(201);
    const confirm = await call(app, {
      method: 'POST',
      url: `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`,
      token: tech,
    });
    expect(confirm.status, confirm.raw).toBe(201);
    const booked = confirm.body as { id: string; start: string };

    // Listed without from/to (the coming 7 days) and by the tenant's local date (to inclusive).
    const ids = async (query: string) => {
      const res = await call(app, { method: 'GET', url: `/api/v1/appointments${query}`, token: tech });
      expect(res.status, res.raw).toBe(200);
      return (res.body as { items: Array<{ id: string }> }).items.map((a) => a.id);
    };
    const localDay = (ms: number) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: t.demo.time_zone }).format(new Date(ms));
    const day = localDay(Date.parse(booked.start));
    const nextDay = localDay(Date.parse(booked.start) + 86_400_000);
    expect(await ids('')).toContain(booked.id);
    expect(await ids(`?from=${day}&to=${day}`)).toContain(booked.id);
    expect(await ids(`?from=${nextDay}`)).not.toContain(booked.id);
    const backwards = await call(app, {
      method: 'GET',
      url: `/api/v1/appointments?from=${nextDay}&to=${day}`,
      token: tech,
    });
    expect(backwards.status).toBe(400);
  });
});

describe('a text to a caller who opted out', () => {
  it('is refused with 409 conflict saying why, and nothing is written', async () => {
    const caller = '+13105550163';
    const id = await startConversation(t.system, t.demo.id, caller);
    await settleOutbound(t);
    await recordOptOut(t.system.db, t.demo.id, caller, 'keyword');
    const count = async () =>
      (
        await t.system.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM conv_messages WHERE tenant_id = $1 AND conversation_id = $2',
          [t.demo.id, id],
        )
      ).rows[0]?.n;
    const before = await count();
    const res = await call(app, {
      method: 'POST',
      url: `/api/v1/conversations/${id}/messages`,
      token: tech,
      body: { body: 'Are you still there?' },
    });
    expect(res.status, res.raw).toBe(409);
    expect(errorOf(res).code).toBe('conflict');
    expect(errorOf(res).message).toMatch(/opted out/);
    expect(await count()).toBe(before);
    const detail = await call(app, { method: 'GET', url: `/api/v1/conversations/${id}`, token: tech });
    expect((detail.body as { state: string }).state).toBe('open');
  });
});
