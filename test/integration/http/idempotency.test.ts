import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedTenant } from '../../helpers/engine.ts';
import {
  type ApiResponse,
  appOf,
  call,
  errorOf,
  settleOutbound,
  startConversation,
  tokenFor,
} from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// X-Idempotency-Key on the operator API, against the running system: a retry replays the stored
// answer and has no second effect, a reused key with another request is refused, racing duplicates
// execute once, keys are per tenant, malformed keys are refused, and a key expires after 24 hours.

let t: TestSystem;
let app: App;
let other: Tenant;
let demoToken: string;
let otherToken: string;
let callerSeq = 300;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  other = await seedTenant(t.system.db, { auth_org_id: 'org_idem_other' });
  demoToken = await tokenFor(t.system, { subject: 'idem_tech', role: 'TECH', org: 'org_demo' });
  otherToken = await tokenFor(t.system, { subject: 'idem_other_tech', role: 'TECH', org: 'org_idem_other' });
});
afterAll(async () => {
  // No send in flight when the system stops (a send racing shutdown has hung stop(); see the report).
  if (t) await settleOutbound(t);
  await t?.stop();
});

async function newConversation(tenantId = t.demo.id): Promise<string> {
  callerSeq += 1;
  return startConversation(t.system, tenantId, `+1310555${String(callerSeq).padStart(4, '0')}`);
}

function send(
  conversationId: string,
  key: string | null,
  body: unknown = { body: 'On my way' },
  token = demoToken,
): Promise<ApiResponse> {
  return call(app, {
    method: 'POST',
    url: `/api/v1/conversations/${conversationId}/messages`,
    token,
    body,
    ...(key === null ? {} : { headers: { 'x-idempotency-key': key } }),
  });
}

async function operatorMessages(conversationId: string, tenantId = t.demo.id): Promise<number> {
  const { rows } = await t.system.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM conv_messages
     WHERE tenant_id = $1 AND conversation_id = $2 AND participant = 'operator' AND direction = 'out'`,
    [tenantId, conversationId],
  );
  return rows[0]?.n ?? 0;
}

async function takeoverEvents(conversationId: string): Promise<number> {
  const { rows } = await t.system.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.conversation.HumanTookOver' AND payload->>'conversation_id' = $2`,
    [t.demo.id, conversationId],
  );
  return rows[0]?.n ?? 0;
}

function expectAllIdentical(responses: ApiResponse[]) {
  const [first, ...rest] = responses;
  if (!first) throw new Error('no responses');
  for (const res of rest) {
    expect(res.status).toBe(first.status);
    expect(res.body).toEqual(first.body);
  }
}

describe('X-Idempotency-Key', () => {
  it('replays the same answer for the same key and body, marked idempotent-replayed, with one effect', async () => {
    const id = await newConversation();
    const key = `key-${randomUUID()}`;
    const first = await send(id, key);
    expect(first.status, first.raw).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await send(id, key);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(await operatorMessages(id)).toBe(1);

    // Without a key, the same request is a new request.
    expect((await send(id, null)).status).toBe(201);
    expect(await operatorMessages(id)).toBe(2);
  });

  it('replays takeover too: one HumanTookOver for two posts with one key', async () => {
    const id = await newConversation();
    const key = `takeover-${randomUUID()}`;
    const request = {
      method: 'POST',
      url: `/api/v1/conversations/${id}/takeover`,
      token: demoToken,
      body: {},
      headers: { 'x-idempotency-key': key },
    };
    const first = await call(app, request);
    const second = await call(app, request);
    expect(first.status, first.raw).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await takeoverEvents(id)).toBe(1);
  });

  it('refuses the same key with another body: 422 idempotency_key_reused, and no effect', async () => {
    const id = await newConversation();
    const key = `key-${randomUUID()}`;
    expect((await send(id, key, { body: 'first text' })).status).toBe(201);
    const reused = await send(id, key, { body: 'second text' });
    expect(reused.status, reused.raw).toBe(422);
    expect(errorOf(reused).code).toBe('idempotency_key_reused');
    expect(await operatorMessages(id)).toBe(1);
  });

  it('refuses the same key on another conversation (another URL) as another request', async () => {
    const a = await newConversation();
    const b = await newConversation();
    const key = `key-${randomUUID()}`;
    expect((await send(a, key)).status).toBe(201);
    const res = await send(b, key);
    expect(res.status, res.raw).toBe(422);
    expect(errorOf(res).code).toBe('idempotency_key_reused');
    expect(await operatorMessages(b)).toBe(0);
  });

  for (const n of [2, 10]) {
    it(`executes once when ${n} requests with one key arrive at once; every answer is the same`, async () => {
      const id = await newConversation();
      const key = `race-${n}-${randomUUID()}`;
      const responses = await Promise.all(Array.from({ length: n }, () => send(id, key)));
      for (const res of responses) expect(res.status, res.raw).toBe(201);
      expectAllIdentical(responses);
      const replayed = responses.filter((res) => res.headers['idempotent-replayed'] === 'true');
      expect(replayed).toHaveLength(n - 1);
      expect(await operatorMessages(id)).toBe(1);
      expect(await takeoverEvents(id)).toBe(1);
    });
  }

  it('scopes keys to the tenant: another tenant using the same key on its own conversation executes', async () => {
    const ours = await newConversation();
    const theirs = await newConversation(other.id);
    const key = `shared-${randomUUID()}`;
    const mine = await send(ours, key);
    expect(mine.status).toBe(201);
    const res = await send(theirs, key, { body: 'On my way' }, otherToken);
    expect(res.status, res.raw).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect((res.body as { conversation: { id: string } }).conversation.id).toBe(theirs);
    expect(await operatorMessages(theirs, other.id)).toBe(1);
    expect(await operatorMessages(ours)).toBe(1);
  });

  it('refuses a malformed key with 400 and does nothing', async () => {
    const id = await newConversation();
    for (const key of ['k'.repeat(201), 'k'.repeat(300), 'has spaces in it', 'tab\there', 'clé-unicode']) {
      const res = await send(id, key);
      expect(res.status, `${JSON.stringify(key)} → ${res.raw}`).toBe(400);
      expect(errorOf(res).code).toBe('validation_failed');
    }
    expect(await operatorMessages(id)).toBe(0);
    // The longest valid key is accepted.
    expect((await send(id, 'k'.repeat(200))).status).toBe(201);
  });

  it('executes again once the key is older than 24 hours', async () => {
    const id = await newConversation();
    const key = `old-${randomUUID()}`;
    const first = await send(id, key);
    expect(first.status).toBe(201);
    const { rowCount } = await t.system.db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'
       WHERE tenant_id = $1 AND key = $2`,
      [t.demo.id, key],
    );
    expect(rowCount).toBe(1);
    const again = await send(id, key);
    expect(again.status, again.raw).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(await operatorMessages(id)).toBe(2);
    // And the fresh record replays from now on.
    expect((await send(id, key)).headers['idempotent-replayed']).toBe('true');
    expect(await operatorMessages(id)).toBe(2);
  });

  it('stores a 4xx answer and replays it too', async () => {
    const missing = randomUUID();
    const key = `missing-${randomUUID()}`;
    const first = await send(missing, key);
    expect(first.status).toBe(404);
    const again = await send(missing, key);
    expect(again.status).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(errorOf(again).code).toBe('not_found');
  });
});
