import { createHmac, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Action, can, type Role } from '../../../src/domain/authorization.ts';
import { SUBSCRIPTION_STATUSES } from '../../../src/domain/feature-gates.ts';
import type { App } from '../../../src/http/app.ts';
import { encodeCursor } from '../../../src/http/schemas.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { SANDBOX_JOBBER } from '../../../src/providers/jobber/account.ts';
import { JOBBER_SIGNATURE_HEADER, jobberSignature } from '../../../src/providers/jobber/webhook-signature.ts';
import { stripeAccountFrom } from '../../../src/providers/stripe/account.ts';
import { HANDLED_EVENT_TYPES } from '../../../src/providers/stripe/events.ts';
import { SANDBOX_ACCOUNT } from '../../../src/providers/twilio/account.ts';
import { signTwilioRequest } from '../../../src/providers/twilio/signature.ts';
import { appOf, call, startConversation, tokenFor } from '../../helpers/operator-api.ts';
import {
  EXTREME_INSTANTS,
  type ExtremeContext,
  extremesOf,
  type JsonSchema,
} from '../../helpers/schema-extremes.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// Out-of-range input is the client's mistake, never a 500. For every route of the app (the API
// from its published OpenAPI schemas, the signed webhooks from the parameters they read, the ops
// routes), requests made of values at the edges of what the schema accepts (the largest integers,
// years 0001 and 9999, the longest strings, astral characters and NUL, empty and full arrays,
// hand-made keyset cursors) are sent with a token of a role allowed to call the route; every answer
// must be below 500. A fixed seed keeps the run reproducible; EXTREME_SEED=<n> explores others.

const SEED = Number(process.env.EXTREME_SEED ?? 20261203);
const RUNS_PER_ROUTE = 12;

type Operation = {
  parameters?: { in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
};
type OpenApi = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

/** A request: a JSON `body`, or a `rawBody` sent as is (form-encoded unless its headers say otherwise). */
type Sent = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  rawBody?: string;
};

let t: TestSystem;
let app: App;
const ids: Record<string, string[]> = {};
const tokens = new Map<string, string>();
let stripeCustomerId = 'cus_unknown';
let requestCount = 0;

function idsOf(kind: string): string[] {
  return ids[kind] ?? [];
}

async function tokenForRole(role: Role, route: string): Promise<string> {
  const key = `${role} ${route}`;
  let token = tokens.get(key);
  if (!token) {
    // One subject per route: a route that deactivates users cannot lock out the routes after it.
    token = await tokenFor(t.system, { subject: `extreme-${tokens.size}`, role, org: DEMO.auth_org_id });
    tokens.set(key, token);
  }
  return token;
}

function roleFor(action: Action | null): Role | null {
  if (action === null) return null;
  return (['OWNER', 'TECH', 'STAFF'] as const).find((role) => can(role, action)) ?? null;
}

// Cursors as our lists make them (an instant and a key), with the instants at the edges and the
// ones V8's Date.parse reads but Postgres does not.
const CURSORS = [
  ...EXTREME_INSTANTS.map((at) => encodeCursor([at, randomUUID()])),
  encodeCursor(['2026-01-01 (x)', randomUUID()]),
  encodeCursor(['Tue, 01 Jan 2026 00:00:00 GMT', randomUUID()]),
  encodeCursor(['2026-01-01', randomUUID()]),
  encodeCursor(['+275760-09-13T00:00:00.000Z', randomUUID()]),
  encodeCursor(['2026-01-01T00:00:00Z', '+13105551212\u0000']),
  encodeCursor([0, 'x']),
  'not-a-cursor',
];

// Ordinary values the schemas cannot describe: a window that ends after it starts, a real zone, a
// phone number.
const DAY_MS = 86_400_000;
const TAME: Record<string, unknown> = {
  from: new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS).toISOString(),
  to: new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS + 7 * DAY_MS).toISOString(),
  time_zone: 'America/Los_Angeles',
  phone: '+13105550142',
};

function contextFor(doc: OpenApi, path: string): ExtremeContext {
  // The kind of the path's `{id}`: the segment before it (`/services/{id}` → services).
  const segments = path.split('/');
  const owner = segments[segments.indexOf('{id}') - 1] ?? '';
  return {
    resolve: (ref) => doc.components?.schemas?.[ref.split('/').pop() ?? ''] ?? {},
    idsFor: (name) => {
      if (name === 'id') return idsOf(owner);
      if (name === 'service_id') return idsOf('services');
      if (name === 'resource_id') return idsOf('resources');
      if (name === 'hold_id') return idsOf('holds');
      if (name === 'tenantId' || name === 'tenant_id' || name === 'tenant') return idsOf('tenants');
      return [];
    },
    stringsFor: (name) => (name === 'cursor' ? CURSORS : name === 'slug' ? [DEMO.slug] : []),
    tameFor: (name, schema) => {
      const value = TAME[name];
      return schema.format === 'date' && typeof value === 'string' ? value.slice(0, 10) : value;
    },
  };
}

function requestArbitrary(doc: OpenApi, method: string, path: string, op: Operation): fc.Arbitrary<Sent> {
  const ctx = contextFor(doc, path);
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of op.parameters ?? []) {
    const value = extremesOf(p.schema, ctx, p.name);
    parts[`${p.in}:${p.name}`] = p.in === 'path' || p.required ? value : fc.option(value, { nil: undefined });
  }
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  if (bodySchema) parts.body = extremesOf(bodySchema, ctx);
  return fc.record(parts).map((values) => {
    let url = path;
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined || key === 'body') continue;
      const [where, name = ''] = key.split(':');
      const text = String(value);
      if (where === 'path') url = url.replace(`{${name}}`, encodeURIComponent(text));
      else if (where === 'query') query.set(name, text);
      else headers[name] = text.replace(/[^\x20-\x7e]/g, '?');
    }
    const search = query.toString();
    return {
      method,
      url: search ? `${url}?${search}` : url,
      headers,
      ...(bodySchema ? { body: values.body ?? {} } : {}),
    };
  });
}

async function send(request: Sent): Promise<{ status: number; raw: string; correlationId: string }> {
  const res = await app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: {
      ...(request.rawBody !== undefined
        ? { 'content-type': 'application/x-www-form-urlencoded' }
        : request.body !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
      ...request.headers,
    },
    ...(request.rawBody !== undefined
      ? { payload: request.rawBody }
      : request.body === undefined
        ? {}
        : { payload: JSON.stringify(request.body) }),
  });
  return { status: res.statusCode, raw: res.body, correlationId: String(res.headers['x-correlation-id']) };
}

/**
 * Runs the property for one route; returns a description of the first failure, if any: a 5xx, or a
 * 4xx that only the database noticed (the error handler's last line of defence, which a schema
 * should have made unnecessary).
 */
async function walk(
  label: string,
  requests: fc.Arbitrary<Sent>,
  runs = RUNS_PER_ROUTE,
): Promise<string | null> {
  let failure: string | null = null;
  let sent = 0;
  await fc
    .assert(
      fc.asyncProperty(requests, async (request) => {
        sent += 1;
        const res = await send(request);
        const refusedBelow =
          res.status >= 400 &&
          t
            .logLines()
            .some((l) => l.includes('request refused below its schema') && l.includes(res.correlationId));
        if (res.status >= 500 || refusedBelow) {
          const { authorization: _, ...shown } = request.headers;
          const what = JSON.stringify({ ...request, headers: shown }).slice(0, 800);
          const logged = t.logLines().find((l) => l.includes(res.correlationId) && l.includes('"err"')) ?? '';
          failure ??= `${label}: ${res.status} for ${what} → ${res.raw.slice(0, 200)}\n    ${logged.slice(0, 600)}`;
          return false;
        }
        return true;
      }),
      { seed: SEED, numRuns: runs, endOnFailure: true },
    )
    .catch((error: unknown) => {
      // A 5xx was recorded above; anything else (a request that threw, a value that could not be
      // generated) is a failure of its own.
      failure ??= `${label}: ${String(error).slice(0, 1200)}`;
    });
  requestCount += sent;
  return failure;
}

beforeAll(async () => {
  t = await startTestSystem({ RATE_LIMIT_PER_MINUTE: '1000000' });
  app = appOf(t.system);
  const owner = await tokenFor(t.system, { subject: 'extreme-setup', role: 'OWNER', org: DEMO.auth_org_id });
  const get = async (url: string) =>
    (await call(app, { method: 'GET', url, token: owner })).body as {
      items: { id: string }[];
    };
  ids.tenants = [t.demo.id];
  ids.services = (await get('/api/v1/services')).items.map((s) => s.id);
  ids.resources = (await get('/api/v1/resources')).items.map((r) => r.id);
  ids.conversations = [await startConversation(t.system, t.demo.id, '+13105550191')];
  // Users other routes' callers are not: deactivating or demoting them locks no route out.
  for (const [i, role] of (['TECH', 'OWNER'] as const).entries()) {
    await call(app, {
      method: 'GET',
      url: '/api/v1/services',
      token: await tokenFor(t.system, { subject: `extreme-victim-${i}`, role, org: DEMO.auth_org_id }),
    });
  }
  ids.users = (await get('/api/v1/users')).items.map((u) => u.id);
  // A hold and an appointment, from real availability.
  const service = ids.services[0] ?? '';
  const from = new Date(Date.now() + 86_400_000).toISOString();
  const to = new Date(Date.now() + 8 * 86_400_000).toISOString();
  const slots = (await get(
    `/api/v1/availability?service_id=${service}&from=${from}&to=${to}`,
  )) as unknown as {
    items: { resource_id: string; start: string }[];
  };
  const holds: string[] = [];
  for (const slot of [slots.items[0], slots.items.at(-1)]) {
    if (!slot) continue;
    const res = await call(app, {
      method: 'POST',
      url: '/api/v1/holds',
      token: owner,
      body: { service_id: service, resource_id: slot.resource_id, start: slot.start },
    });
    if (res.status === 201) holds.push((res.body as { id: string }).id);
  }
  ids.holds = holds;
  const booked = holds[1]
    ? await call(app, { method: 'POST', url: `/api/v1/holds/${holds[1]}/confirm`, token: owner, body: {} })
    : null;
  ids.appointments =
    booked?.status === 201 || booked?.status === 200 ? [(booked.body as { id: string }).id] : [];
  // A Stripe customer for the demo tenant, so signed events reach past "unknown customer".
  await call(app, {
    method: 'POST',
    url: '/api/v1/billing/checkout',
    token: owner,
    body: { plan: 'starter' },
  });
  const { rows } = await t.system.db.query<{ id: string }>(
    'SELECT stripe_customer_id AS id FROM bill_customers WHERE tenant_id = $1',
    [t.demo.id],
  );
  stripeCustomerId = rows[0]?.id ?? stripeCustomerId;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('extreme values reach no 5xx', () => {
  it('on every /api route, fed from its published schema with a token of a role allowed to call it', async () => {
    const doc = app.swagger() as unknown as OpenApi;
    const walked = new Set<string>();
    const failures: string[] = [];
    // Reads first and deletions last, so a deactivated service or user does not turn the rest of
    // the walk into 404s.
    const order = ['get', 'post', 'put', 'patch', 'delete'];
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))
      .sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method));
    for (const { path, method, op } of operations) {
      const routeUrl = path.replace(/\{(\w+)\}/g, ':$1');
      const route = app.apiRoutes.find((r) => r.url === routeUrl && r.method === method.toUpperCase());
      if (!route) continue;
      walked.add(`${route.method} ${route.url}`);
      const role = roleFor(route.action);
      const token = role ? await tokenForRole(role, `${route.method} ${route.url}`) : null;
      const requests = requestArbitrary(doc, method.toUpperCase(), path, op).map((r) => ({
        ...r,
        headers: { ...r.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      }));
      const failure = await walk(`${route.method} ${route.url} as ${role ?? 'anyone'}`, requests);
      if (failure) failures.push(failure);
    }
    // The walk covers the whole route table: a route missing from the document would be skipped.
    expect(app.apiRoutes.map((r) => `${r.method} ${r.url}`).filter((r) => !walked.has(r))).toEqual([]);
    expect(failures).toEqual([]);
    // Each route got its full share of requests (a walk stops early only on a failure).
    expect(requestCount).toBeGreaterThanOrEqual(walked.size * RUNS_PER_ROUTE);
  }, 120_000);
});

// What each Twilio webhook reads (the routes accept any other parameter and ignore it).
const phone: JsonSchema = { type: 'string', minLength: 1, maxLength: 64 };
const sid = (prefix: string): JsonSchema => ({ type: 'string', pattern: `^${prefix}[0-9a-f]{32}$` });
const twilioParams = (properties: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  properties: { AccountSid: { const: SANDBOX_ACCOUNT.accountSid }, ...properties },
  required: ['AccountSid', ...Object.keys(properties)],
});
const voice = {
  CallSid: sid('CA'),
  From: { oneOf: [{ enum: ['+13105550124', '+999999999999999'] }, phone] },
  To: { enum: [DEMO.twilio_number, '+15005550000', '0'] },
};
const TWILIO_WEBHOOKS: { path: string; params: JsonSchema; query?: JsonSchema }[] = [
  { path: '/webhooks/twilio/voice', params: twilioParams(voice) },
  {
    path: '/webhooks/twilio/voice/dial-status',
    params: twilioParams({
      ...voice,
      DialCallStatus: { enum: ['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled'] },
      DialCallDuration: { type: 'integer', minimum: 0 },
      AnsweredBy: { type: 'string', maxLength: 64 },
    }),
  },
  {
    path: '/webhooks/twilio/voice/screen',
    params: twilioParams({ ParentCallSid: sid('CA'), Digits: { type: 'string', maxLength: 8 } }),
  },
  {
    path: '/webhooks/twilio/voice/screen-result',
    params: twilioParams({ ParentCallSid: sid('CA'), Digits: { type: 'string', maxLength: 8 } }),
  },
  {
    path: '/webhooks/twilio/sms',
    params: twilioParams({
      MessageSid: sid('SM'),
      From: { oneOf: [{ enum: ['+13105550123', '+999999999999999', '+447911123456'] }, phone] },
      To: { enum: [DEMO.twilio_number, '+15005550000'] },
      Body: { type: 'string', maxLength: 10_000 },
      NumMedia: { type: 'integer', minimum: 0, maximum: 10 },
      MediaUrl0: { type: 'string', format: 'uri', maxLength: 2048 },
    }),
  },
  {
    path: '/webhooks/twilio/sms/status',
    query: {
      type: 'object',
      properties: { tenant: { type: 'string', format: 'uuid' }, message: { type: 'string', format: 'uuid' } },
      required: ['tenant', 'message'],
    },
    params: twilioParams({
      MessageSid: sid('SM'),
      MessageStatus: { enum: ['queued', 'sent', 'delivered', 'undelivered', 'failed', 'read'] },
      ErrorCode: { type: 'string', pattern: '^\\d{1,6}$' },
    }),
  },
];

const unixSeconds: JsonSchema = { type: 'integer', minimum: 0 };
const stripeEvent = (): JsonSchema => ({
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^evt_[A-Za-z0-9]{1,250}$' },
    type: { enum: [...HANDLED_EVENT_TYPES] },
    created: unixSeconds,
    data: {
      type: 'object',
      properties: {
        object: {
          oneOf: [
            {
              type: 'object',
              properties: {
                id: { type: 'string', pattern: '^sub_[A-Za-z0-9_]{1,250}$' },
                customer: { enum: [stripeCustomerId, 'cus_unknown'] },
                status: { enum: [...SUBSCRIPTION_STATUSES] },
                created: unixSeconds,
                current_period_end: { ...unixSeconds, nullable: true },
                metadata: {
                  type: 'object',
                  properties: { plan: { enum: ['starter', 'pro', 'enterprise'] } },
                },
                items: {
                  type: 'object',
                  properties: {
                    data: {
                      type: 'array',
                      maxItems: 3,
                      items: {
                        type: 'object',
                        properties: {
                          current_period_end: { ...unixSeconds, nullable: true },
                          price: {
                            type: 'object',
                            properties: { lookup_key: { type: 'string', maxLength: 200 } },
                          },
                        },
                      },
                    },
                  },
                },
              },
              required: ['id', 'customer', 'status', 'created'],
            },
            {
              type: 'object',
              properties: {
                customer: { enum: [stripeCustomerId, 'cus_unknown'] },
                subscription: { type: 'string', pattern: '^sub_[A-Za-z0-9_]{1,250}$' },
              },
              required: ['customer'],
            },
          ],
        },
      },
      required: ['object'],
    },
  },
  required: ['id', 'type', 'created', 'data'],
});

describe('the out-of-range values that were 500s are 400 validation_failed', () => {
  const owner = () => tokenForRole('OWNER', 'named cases');
  async function expect400(method: string, url: string, body?: unknown): Promise<void> {
    const res = await call(app, {
      method,
      url,
      token: await owner(),
      ...(body === undefined ? {} : { body }),
    });
    expect({ url, status: res.status, code: (res.body as { error?: { code: string } }).error?.code }).toEqual(
      {
        url,
        status: 400,
        code: 'validation_failed',
      },
    );
  }
  const service = (amount_cents: number) => ({
    name: `Priced ${amount_cents}`,
    duration_minutes: 30,
    price: { amount_cents, currency: 'USD' },
  });

  it('money above $100,000 (amount_cents 2147483648 overflowed the column)', async () => {
    await expect400('POST', '/api/v1/services', service(2_147_483_648));
    await expect400('POST', '/api/v1/services', service(10_000_001));
    await expect400('PATCH', `/api/v1/services/${idsOf('services')[0]}`, { price: service(2 ** 31).price });
    const atCap = await call(app, {
      method: 'POST',
      url: '/api/v1/services',
      token: await owner(),
      body: service(10_000_000),
    });
    expect(atCap.status).toBe(201);
  });

  it('dates in year 0000, which Postgres does not have', async () => {
    const resource = idsOf('resources')[0];
    await expect400('PUT', `/api/v1/resources/${resource}/exceptions/0000-01-01`, { intervals: [] });
    await expect400('DELETE', `/api/v1/resources/${resource}/exceptions/0000-02-29`);
    await expect400('GET', `/api/v1/resources/${resource}/exceptions?from=0000-01-01&to=2026-01-01`);
    const firstYear = await call(app, {
      method: 'GET',
      url: `/api/v1/resources/${resource}/exceptions?from=0001-01-01&to=9999-12-31`,
      token: await owner(),
    });
    expect(firstYear.status).toBe(200);
  });

  it('instants outside years 0001–9999 in UTC, and offsets beyond ±14:00', async () => {
    const service = idsOf('services')[0];
    const window = (from: string, to: string) =>
      `/api/v1/availability?service_id=${service}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    await expect400('GET', window('0000-12-31T00:00:00Z', '0001-01-02T00:00:00Z'));
    await expect400('GET', window('0001-01-01T00:00:00+01:00', '0001-01-02T00:00:00Z'));
    await expect400('GET', window('9999-12-31T00:00:00Z', '9999-12-31T23:59:59-01:00'));
    await expect400('GET', window('2026-01-01T00:00:00+23:59', '2026-01-02T00:00:00Z'));
    await expect400('GET', '/api/v1/appointments?from=1970-01-01T00:00:00Z&to=0000-01-01T00:00:00Z');
  });

  it('a hold at the last instant that can be stored is a conflict (its end fell in year 10000: a 500)', async () => {
    const token = await owner();
    const created = await call(app, { method: 'POST', url: '/api/v1/services', token, body: service(9_900) });
    const { id: serviceId } = created.body as { id: string };
    for (const start of ['9999-12-31T23:59:59.999Z', '9999-12-31T23:00:00Z']) {
      const res = await call(app, {
        method: 'POST',
        url: '/api/v1/holds',
        token,
        body: { service_id: serviceId, resource_id: idsOf('resources')[0], start },
      });
      expect({ start, status: res.status, body: res.body }).toMatchObject({
        start,
        status: 409,
        body: { error: { code: 'conflict' } },
      });
    }
  });

  it('text that is not well-formed Unicode (a lone surrogate: a 500 inside jsonb, U+FFFD in a text column)', async () => {
    const cut = `${'a'.repeat(10)}😀`.slice(0, 11); // ends with half of the emoji
    const registration = {
      brand: {
        legal_name: `Plumbing ${cut}`,
        ein: '12-3456789',
        website: 'https://plumbing.example',
        vertical: 'Home services',
        contact_email: 'owner@plumbing.example',
      },
      campaign: {
        use_case: 'CUSTOMER_CARE',
        description: 'Texts callers back after a missed call so they can book a plumbing visit by SMS.',
        sample_messages: [
          'Sorry we missed your call! Reply with what you need.',
          'You are booked for Tuesday 9:00 AM.',
        ],
        opt_in_description: 'Callers phone the business; a missed call gets one text back; STOP ends it.',
      },
    };
    // A rejected campaign can be registered again (an approved one is a 409 before anything is stored).
    await t.system.db.query(
      "UPDATE comp_campaigns SET status = 'rejected', reason = 'test' WHERE tenant_id = $1",
      [t.demo.id],
    );
    const valid = await call(app, {
      method: 'PUT',
      url: '/api/v1/compliance/registration',
      token: await owner(),
      body: {
        ...registration,
        brand: { ...registration.brand, legal_name: 'Plumbing 😀' },
      },
    });
    expect(valid.status).toBeLessThan(300);
    await t.system.db.query(
      "UPDATE comp_campaigns SET status = 'rejected', reason = 'test' WHERE tenant_id = $1",
      [t.demo.id],
    );
    for (const [method, url, body] of [
      ['PUT', '/api/v1/compliance/registration', registration],
      ['POST', '/api/v1/services', { ...service(100), name: `Drain ${cut}` }],
      ['POST', '/api/v1/services', { ...service(100), name: 'Drain \udc00 cleaning' }],
    ] as const) {
      const res = await call(app, { method, url, token: await owner(), body });
      expect({ url, status: res.status, body: res.body }).toMatchObject({
        url,
        status: 400,
        body: {
          error: { code: 'validation_failed', message: expect.stringContaining('well-formed Unicode') },
        },
      });
    }
  });

  it('windows at the very first and last days that can be stored are answered, not failed', async () => {
    const token = await owner();
    const created = await call(app, {
      method: 'POST',
      url: '/api/v1/services',
      token,
      body: service(14_900),
    });
    const { id: serviceId } = created.body as { id: string };
    for (const [from, to] of [
      ['0001-01-01T00:00:00Z', '0001-01-08T00:00:00Z'],
      ['9999-12-25T00:00:00Z', '9999-12-31T23:59:59.999Z'],
      ['9999-12-31T10:00:00+14:00', '9999-12-31T23:59:59-00:00'],
    ]) {
      const q = `from=${encodeURIComponent(from ?? '')}&to=${encodeURIComponent(to ?? '')}`;
      for (const url of [`/api/v1/availability?service_id=${serviceId}&${q}`, `/api/v1/appointments?${q}`]) {
        const res = await call(app, { method: 'GET', url, token });
        expect({ url, status: res.status }).toEqual({ url, status: 200 });
      }
    }
  });

  it('keyset cursors whose instant Date.parse reads but Postgres refuses, on every list with a cursor', async () => {
    const doc = app.swagger() as unknown as OpenApi;
    const lists = Object.entries(doc.paths).filter(
      ([path, ops]) =>
        path.startsWith('/api/v1/') &&
        ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'cursor'),
    );
    expect(lists.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        '/api/v1/conversations',
        '/api/v1/appointments',
        '/api/v1/compliance/opt-outs',
      ]),
    );
    // Lists with a required window get a valid one, so only the cursor is wrong.
    const window = 'from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z';
    for (const [path, ops] of lists) {
      const required = ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'from' && p.required);
      for (const at of [
        '2026-01-01 (x)',
        'Tue, 01 Jan 2026 00:00:00 GMT',
        '2026-01-01T00:00:00+23:59',
        '0000-01-01T00:00:00Z',
      ]) {
        const cursor = encodeCursor([at, path.endsWith('opt-outs') ? '+13105550100' : randomUUID()]);
        await expect400('GET', `${path}?${required ? `${window}&` : ''}cursor=${cursor}`);
      }
    }
  });
});

/** A Stripe event as Stripe would post it, signed with the webhook secret. */
function signedStripeEvent(event: unknown): Sent {
  const secret = stripeAccountFrom(t.system.config).webhookSecret;
  const payload = JSON.stringify(event);
  const stamp = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${stamp}.${payload}`).digest('hex');
  return {
    method: 'POST',
    url: '/webhooks/stripe',
    headers: { 'stripe-signature': `t=${stamp},v1=${v1}`, 'content-type': 'application/json' },
    rawBody: payload,
  };
}

describe('extreme values reach no 5xx on the webhooks and ops routes', () => {
  const ctx = (): ExtremeContext => ({
    resolve: () => ({}),
    idsFor: (name) => (name === 'tenant' ? [t.demo.id] : name === 'message' ? idsOf('messages') : []),
  });

  it('values the route reads past its schema are refused by the route, not by the database', async () => {
    // A dial of 2147483648 seconds overflowed the column; a period end at 2^53 s is past year 9999.
    const dial = {
      AccountSid: SANDBOX_ACCOUNT.accountSid,
      CallSid: `CA${'0'.repeat(31)}7`,
      From: '+13105550125',
      To: DEMO.twilio_number,
      DialCallStatus: 'completed',
      DialCallDuration: '2147483648',
    };
    const url = '/webhooks/twilio/voice/dial-status';
    const twilioRes = await send({
      method: 'POST',
      url,
      headers: {
        'x-twilio-signature': signTwilioRequest(
          SANDBOX_ACCOUNT.authToken,
          `${t.system.config.PUBLIC_BASE_URL}${url}`,
          dial,
        ),
      },
      rawBody: new URLSearchParams(dial).toString(),
    });
    const event = {
      id: 'evt_far_future',
      type: 'customer.subscription.updated',
      created: 1_700_000_000,
      data: {
        object: {
          id: 'sub_far_future',
          customer: stripeCustomerId,
          status: 'active',
          created: 1_700_000_000,
          current_period_end: Number.MAX_SAFE_INTEGER,
          metadata: { plan: 'starter' },
        },
      },
    };
    const stripeRes = await send(signedStripeEvent(event));
    // The dial is handled with its duration unknown; the event is malformed.
    expect(`${twilioRes.status} ${twilioRes.raw.slice(0, 300)}`).toMatch(/^200 /);
    const { rows } = await t.system.db.query<{ duration_seconds: number | null }>(
      'SELECT duration_seconds FROM conv_calls WHERE tenant_id = $1 AND call_sid = $2',
      [t.demo.id, dial.CallSid],
    );
    expect(rows).toEqual([{ duration_seconds: null }]);
    expect(`${stripeRes.status} ${stripeRes.raw.slice(0, 300)}`).toMatch(/^400 /);
    expect(stripeRes.raw).not.toContain('out of range or malformed');
    for (const res of [twilioRes, stripeRes]) {
      expect(
        t.logLines().filter((l) => l.includes(res.correlationId) && l.includes('below its schema')),
      ).toEqual([]);
    }
  });

  it('covers every webhook the app serves', () => {
    const doc = app.swagger() as unknown as OpenApi;
    const served = Object.keys(doc.paths).filter((path) => path.startsWith('/webhooks/'));
    expect(served.sort()).toEqual(
      [
        ...TWILIO_WEBHOOKS.map((hook) => hook.path),
        '/webhooks/stripe',
        '/webhooks/google/calendar',
        '/webhooks/jobber',
      ].sort(),
    );
  });

  it('on the Google Calendar push webhook, with extreme headers', async () => {
    const doc = app.swagger() as unknown as OpenApi;
    const op = doc.paths['/webhooks/google/calendar']?.post;
    expect(op).toBeDefined();
    const generated = await walk(
      'POST /webhooks/google/calendar',
      requestArbitrary(doc, 'POST', '/webhooks/google/calendar', op as never),
      2,
    );
    // Header values the schema allows but the push must still refuse cleanly: a channel id that
    // looks like ours, a message number past 2^53, negative, fractional or in another script.
    const failures: string[] = generated ? [generated] : [];
    const extreme = fc.record({
      'x-goog-channel-id': fc.oneof(
        fc.uuid(),
        fc.string({ maxLength: 200 }),
        fc.constant('00000000-0000-0000-0000-000000000000'),
      ),
      'x-goog-channel-token': fc.string({ minLength: 1, maxLength: 500 }),
      'x-goog-resource-state': fc.constantFrom('sync', 'exists', 'not_exists', '٣', ''),
      'x-goog-message-number': fc.constantFrom(
        '1',
        '0',
        '-1',
        '1.5',
        '9007199254740993',
        '99999999999999999999',
        '١٢',
        'NaN',
      ),
    });
    for (const headers of fc.sample(extreme, 60)) {
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/google/calendar',
        headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => /^[\x20-\x7e]*$/.test(v))),
      });
      // No channel matches: refused as forged, whatever else the headers say.
      if (res.statusCode !== 403)
        failures.push(`${res.statusCode} for ${JSON.stringify(headers)}: ${res.body.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('on every Twilio webhook, validly signed, with extreme parameters', async () => {
    const { rows } = await t.system.db.query<{ id: string }>(
      "SELECT id FROM conv_messages WHERE tenant_id = $1 AND direction = 'out' LIMIT 3",
      [t.demo.id],
    );
    ids.messages = rows.map((r) => r.id);
    const failures: string[] = [];
    for (const hook of TWILIO_WEBHOOKS) {
      const requests = fc
        .record({
          params: extremesOf(hook.params, ctx()),
          query: hook.query ? extremesOf(hook.query, ctx()) : fc.constant({}),
        })
        .map(({ params, query }) => {
          const form = Object.fromEntries(Object.entries(params as object).map(([k, v]) => [k, String(v)]));
          const search = new URLSearchParams(
            Object.entries(query as object).map(([k, v]): [string, string] => [k, String(v)]),
          ).toString();
          const url = search ? `${hook.path}?${search}` : hook.path;
          const signature = signTwilioRequest(
            SANDBOX_ACCOUNT.authToken,
            `${t.system.config.PUBLIC_BASE_URL}${url}`,
            form,
          );
          return {
            method: 'POST',
            url,
            headers: { 'x-twilio-signature': signature },
            rawBody: new URLSearchParams(form).toString(),
          };
        });
      const failure = await walk(`POST ${hook.path}`, requests);
      if (failure) failures.push(failure);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('on the Jobber webhook, validly signed, with extreme payloads', async () => {
    // Signed with the sandbox app's secret, so every request gets past the signature to the
    // payload's reading: topics, ids and times of any shape, and bodies that are not objects.
    const webHookEvent = fc.record({
      topic: fc.oneof(
        fc.constantFrom('VISIT_CREATE', 'VISIT_UPDATE', 'VISIT_DESTROY', 'APP_DISCONNECT'),
        fc.string(),
      ),
      appId: fc.oneof(fc.uuid(), fc.string({ maxLength: 300 }), fc.integer()),
      accountId: fc.oneof(
        fc.base64String({ maxLength: 80 }),
        fc.string({ maxLength: 300 }),
        fc.constant(null),
      ),
      itemId: fc.oneof(fc.base64String({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 100 })),
      occurredAt: fc.oneof(
        fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59+14:00', ''),
        fc.string(),
      ),
    });
    const payload = fc.oneof(
      webHookEvent.map((event) => ({ data: { webHookEvent: event } })),
      fc.jsonValue(),
    );
    const requests = payload.map((body) => {
      const rawBody = JSON.stringify(body) ?? 'null';
      return {
        method: 'POST',
        url: '/webhooks/jobber',
        headers: {
          'content-type': 'application/json',
          [JOBBER_SIGNATURE_HEADER]: jobberSignature(SANDBOX_JOBBER.clientSecret, rawBody),
        },
        rawBody,
      };
    });
    // The signature is right: a well-formed event is taken (else every request would be a 403).
    const [first] = fc.sample(requests, { seed: SEED, numRuns: 1 });
    const wellFormed = {
      data: { webHookEvent: { topic: 'VISIT_UPDATE', appId: 'x', accountId: 'y', itemId: 'z' } },
    };
    const rawBody = JSON.stringify(wellFormed);
    const taken = await send({
      ...(first as Sent),
      headers: {
        'content-type': 'application/json',
        [JOBBER_SIGNATURE_HEADER]: jobberSignature(SANDBOX_JOBBER.clientSecret, rawBody),
      },
      rawBody,
    });
    expect(taken.status).toBe(200);
    expect(await walk('POST /webhooks/jobber', requests, 60)).toBeNull();
  }, 60_000);

  it('on the Stripe webhook, validly signed, with extreme event fields', async () => {
    const requests = extremesOf(stripeEvent(), ctx()).map(signedStripeEvent);
    expect(await walk('POST /webhooks/stripe', requests, 40)).toBeNull();
  }, 60_000);

  it('on the ops routes', async () => {
    const doc = app.swagger() as unknown as OpenApi;
    const failures: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (path.startsWith('/api/') || path.startsWith('/webhooks/')) continue;
      for (const [method, op] of Object.entries(operations)) {
        const failure = await walk(
          `${method.toUpperCase()} ${path}`,
          requestArbitrary(doc, method.toUpperCase(), path, op),
          2,
        );
        if (failure) failures.push(failure);
      }
    }
    expect(failures).toEqual([]);
  });
});
