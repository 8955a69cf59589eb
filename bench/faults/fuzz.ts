import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import Stripe from 'stripe';
import { inTransaction } from '../../src/persistence/db.ts';
import { setCampaignStatus } from '../../src/persistence/repositories/compliance.ts';
import { findTenantBySlug, upsertTenantBySlug } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { seedDemoScheduling } from '../../src/persistence/seed-demo-scheduling.ts';
import { openDevIssuer } from '../../src/providers/auth/dev-issuer.ts';
import { openDevIssuerFor, staffOrgOf } from '../../src/providers/auth/operator-auth.ts';
import { SANDBOX_STRIPE } from '../../src/providers/stripe/account.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { signTwilioRequest } from '../../src/providers/twilio/signature.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createDispatch } from '../../src/runtime/dispatch.ts';
import {
  callerNumbers,
  type RunContext,
  rememberSecret,
  type ScenarioResult,
  seededRandom,
  sleep,
  startInProcess,
  twilioSid,
} from './common.ts';

// Scenario 5 — fuzzing every route of GET /openapi.json of an in-process system with a fixed seed.
//
// Phase A sends only requests that must be rejected (no or forged credentials, unsigned webhooks,
// malformed bodies, wrong content types…) in batches, with the row counts of every public table
// compared before and after each batch. Phase B adds valid OWNER/TECH/STAFF tokens with foreign and
// random ids, nasty strings and plausible bodies; its requests expected to be rejected are batched
// and checked the same way, the others (which may legitimately write) are only checked for 5xx.
// Across both: zero 5xx, no 2xx without credentials, the foreign tenant's rows untouched.

const SEED = 20_261_127;
const TARGET_REQUESTS = 10_500;
const CONCURRENCY = 12;
const BATCH = 300;
const REQUEST_TIMEOUT_MS = 15_000;
/** Tables whose rows rejected requests may write by design. */
const WRITES_BY_DESIGN = new Set(['audit_logs']);

type Op = {
  method: string;
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: JsonSchema }>;
  body?: JsonSchema;
};
type JsonSchema = Record<string, unknown>;
type Req = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  expectReject: boolean;
  label: string;
};
type Res = { status: number; body: string; ms: number };

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202Eevil\u202C',
  '\u200F\u05E9\u05DC\u05D5\u05DD',
  '😀'.repeat(40),
  '👨‍👩‍👧‍👦🏳️‍🌈',
  'e\u0301\u0301\u0301\u0301',
  '\uD800',
  '\uFEFF',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; DROP TABLE conv_messages; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal injection probe
  '${jndi:ldap://x}',
  '{{7*7}}',
  '%00',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'x'.repeat(5_000),
  'null',
  '-1',
  '1e309',
  'NaN',
  '\r\n\r\nX: y',
];

const PATH_VALUES = [
  '__proto__',
  'constructor',
  'prototype',
  '%00',
  'a%00b',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%',
  '%zz',
  '%C0%AF',
  '%FF%FE',
  '%E2%80%AE',
  encodeURIComponent('\u202Eevil'),
  encodeURIComponent('😀'),
  'x'.repeat(4000),
  '0',
  '-1',
  '1e309',
  'null',
  'undefined',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '00000000-0000-0000-0000-00000000000g',
  encodeURIComponent("' OR 1=1 --"),
  '%20',
  'Infinity',
];

const QUERY_VALUES = [
  '',
  '-1',
  '0',
  '1',
  '1.5',
  '999999999999999999999',
  '1e309',
  'true',
  'NaN',
  '%00',
  '2026-13-45T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '1970-01-01T00:00:00Z',
  '2026-03-08T02:30:00-08:00',
  'not-a-date',
  encodeURIComponent('😀'.repeat(20)),
  encodeURIComponent('\u202E'),
  'x'.repeat(3000),
  '__proto__',
  encodeURIComponent('+13105551212'),
  'eyJub3QiOiJhIGN1cnNvciJ9',
  '%zz',
];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=xyz',
  'application/json; charset=utf-16',
  'application/octet-stream',
  'application/merge-patch+json',
  'application/json;;;',
  '*/*',
];

const MALFORMED_JSON = [
  '{',
  '{"a":',
  '{"a":1}}',
  "{'a':1}",
  'nul',
  '\u0000',
  '[',
  '{"__proto__":{"admin":true}',
  '{"a":1,}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `{"a":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`,
];

function openApiOps(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Op[] {
  const ops: Op[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = (op.parameters ?? []) as Array<{ in: string; name: string; schema: JsonSchema }>;
      const content = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)
        ?.content;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        ...(content?.['application/json']?.schema ? { body: content['application/json'].schema } : {}),
      });
    }
  }
  return ops;
}

export async function runFuzz(ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  let ok = true;
  const url = await ctx.database('fuzz');
  const sys = await startInProcess(ctx, 'fuzz-system', url, { RATE_LIMIT_PER_MINUTE: '100000000' });
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const { system, baseUrl } = sys;
    const db = system.db;
    const port = Number(new URL(baseUrl).port);
    const random = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

    // --- the world: the demo tenant and a foreign tenant with rows of their own ----------------
    const demo = await findTenantBySlug(db, DEMO.slug);
    if (!demo) throw new Error('demo tenant missing');
    const foreign = await inTransaction(db, async (client) => {
      const { tenant } = await upsertTenantBySlug(client, {
        id: randomUUID(),
        slug: 'fuzz-foreign',
        name: 'Foreign Plumbing',
        time_zone: 'America/New_York',
        auth_org_id: 'org_fuzz_foreign',
        twilio_number: '+15005550009',
        forwarding_phone: '+15005550008',
        settings: {},
      });
      await seedDemoScheduling(client, tenant);
      await setCampaignStatus(client, tenant.id, 'approved');
      return tenant;
    });
    const dispatch = createDispatch({ db, boss: system.boss, readGates: readGatesFromBilling });
    const [demoCaller, foreignCaller] = callerNumbers('646', 2, 505);
    const demoConv = await dispatch(
      demo.id,
      { caller: demoCaller as string },
      { type: 'MissedCall', callSid: twilioSid('CA'), at: new Date().toISOString() },
      { correlationId: 'fuzz-seed' },
    );
    const foreignConv = await dispatch(
      foreign.id,
      { caller: foreignCaller as string },
      { type: 'MissedCall', callSid: twilioSid('CA'), at: new Date().toISOString() },
      { correlationId: 'fuzz-seed' },
    );
    const idsOf = async (table: string, tenantId: string) =>
      (
        await db.query<{ id: string }>(`SELECT id::text AS id FROM ${table} WHERE tenant_id = $1`, [tenantId])
      ).rows.map((r) => r.id);
    const demoIds = [
      demoConv.conversationId,
      ...demoConv.messageIds,
      ...(await idsOf('catalog_services', demo.id)),
      ...(await idsOf('sched_resources', demo.id)),
      demo.id,
    ];
    const foreignIds = [
      foreignConv.conversationId,
      ...foreignConv.messageIds,
      ...(await idsOf('catalog_services', foreign.id)),
      ...(await idsOf('sched_resources', foreign.id)),
      foreign.id,
    ];
    // Staff act on every tenant by design: their requests never carry the foreign tenant's ids, so
    // that any change to its rows is a finding.
    let avoidForeign = false;
    const idPool = () => {
      const r = random();
      if (r < 0.4) return avoidForeign ? randomUUIDFrom(random) : pick(foreignIds);
      if (r < 0.6) return pick(demoIds);
      if (r < 0.8) return randomUUIDFrom(random);
      return pick(PATH_VALUES);
    };

    // --- tokens -----------------------------------------------------------------------------------
    const issuer = await openDevIssuerFor(system.config);
    const owner = await issuer.mint({ subject: 'fuzz', org: DEMO.auth_org_id, role: 'org:admin' });
    const tech = await issuer.mint({ subject: 'fuzz-tech', org: DEMO.auth_org_id, role: 'org:member' });
    const staff = await issuer.mint({
      subject: 'fuzz-staff',
      org: staffOrgOf(system.config),
      role: 'org:member',
    });
    const foreignOwner = await issuer.mint({
      subject: 'fuzz-foreign',
      org: 'org_fuzz_foreign',
      role: 'org:admin',
    });
    const unknownOrg = await issuer.mint({ subject: 'fuzz-unknown', org: 'org_nobody', role: 'org:admin' });
    const expired = await issuer
      .mint({ subject: 'fuzz', org: DEMO.auth_org_id, role: 'org:admin' }, { expiresIn: '-1h' })
      .catch(() => 'x.y.z');
    const forger = await openDevIssuer({
      keyFile: join(ctx.runDir, 'forger-key.json'),
      issuer: issuer.issuer,
      orgClaim: system.config.AUTH_ORG_CLAIM,
      roleClaim: system.config.AUTH_ROLE_CLAIM,
    });
    const forged = await forger.mint({ subject: 'fuzz', org: staffOrgOf(system.config), role: 'org:admin' });
    const [h, p] = owner.split('.');
    const algNone = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p ?? '', 'base64url').toString()), org_role: 'STAFF' })).toString('base64url')}.${owner.split('.')[2]}`;
    for (const t of [owner, tech, staff, foreignOwner, unknownOrg, expired, forged, algNone, tampered])
      rememberSecret(t, 'token');
    const invalidAuth = [
      undefined,
      'Bearer',
      'Bearer ',
      'Bearer x',
      `Bearer ${expired}`,
      `Bearer ${forged}`,
      `Bearer ${algNone}`,
      `Bearer ${tampered}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `bearer ${'A'.repeat(8000)}`,
      `Bearer ${owner}x`,
      `Token ${owner}`,
    ];
    // (The foreign tenant's own OWNER is not used: its legitimate writes would mask cross-tenant ones.)
    const validAuth = [`Bearer ${owner}`, `Bearer ${tech}`, `Bearer ${staff}`, `Bearer ${unknownOrg}`];

    // --- the document -------------------------------------------------------------------------------
    const docRes = await fetch(`${baseUrl}/openapi.json`);
    const ops = openApiOps(
      (await docRes.json()) as { paths: Record<string, Record<string, Record<string, unknown>>> },
    );

    // --- value generation -------------------------------------------------------------------------
    function valid(schema: JsonSchema | undefined, name = '', depth = 0): unknown {
      if (!schema || depth > 6) return null;
      const variants = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
      if (variants && variants.length > 0) return valid(pick(variants), name, depth + 1);
      if (Array.isArray(schema.enum)) return pick(schema.enum as unknown[]);
      const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
      switch (type) {
        case 'string': {
          const format = schema.format as string | undefined;
          if (format === 'uuid') return name.includes('hold') ? randomUUIDFrom(random) : idPool();
          if (format === 'date-time')
            return new Date(Date.now() + Math.floor(random() * 14 * 86_400_000))
              .toISOString()
              .replace(/\.\d+Z$/, 'Z');
          if (format === 'email') return 'owner@example.com';
          if (format === 'uri') return 'https://example.com/ok';
          if (name === 'ein') return '12-3456789';
          if (name === 'start' || name === 'end') return name === 'start' ? '08:00' : '17:00';
          if (name === 'time_zone') return pick(['America/New_York', 'Mars/Olympus', 'UTC', '']);
          // A public hold's customer phone (E.164, the number the log scan looks for) and booking code.
          if (name === 'phone') return '+13105550100';
          if (name === 'code') return String(Math.floor(random() * 1e6)).padStart(6, '0');
          const r = random();
          return r < 0.5 ? `fuzz ${Math.floor(random() * 1e6)}` : pick(NASTY_STRINGS);
        }
        case 'integer':
        case 'number': {
          const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
          const max = typeof schema.maximum === 'number' ? Math.min(schema.maximum, min + 1000) : min + 1000;
          return Math.floor(min + random() * (max - min + 1));
        }
        case 'boolean':
          return random() < 0.5;
        case 'array': {
          const n = Math.floor(random() * 3);
          return Array.from({ length: n }, () => valid(schema.items as JsonSchema, name, depth + 1));
        }
        case 'object': {
          const out: Record<string, unknown> = {};
          const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
          const required = new Set((schema.required ?? []) as string[]);
          for (const [key, prop] of Object.entries(props)) {
            if (required.has(key) || random() < 0.6) out[key] = valid(prop, key, depth + 1);
          }
          if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
            out[pick(['mon', 'tue', 'sun', 'holiday', '__proto__'])] = valid(
              schema.additionalProperties as JsonSchema,
              name,
              depth + 1,
            );
          }
          return out;
        }
        default:
          return null;
      }
    }
    function wrongType(value: unknown): unknown {
      if (typeof value === 'string') return pick([123, true, null, [], {}, ['a']]);
      if (typeof value === 'number')
        return pick(['12', 'abc', -1, 1e308, -1e308, 1.5, 2 ** 53 + 1, null, true]);
      if (typeof value === 'boolean') return pick(['true', 1, 0, null, 'yes']);
      if (Array.isArray(value)) return pick([{}, 'a', 1, null, Array.from({ length: 500 }, () => 'x')]);
      if (value && typeof value === 'object') return pick([[], 'a', 1, null]);
      return pick(['x', 1, {}, []]);
    }
    /** One mutation of a valid body: the kind says whether it must be rejected. */
    function mutate(schema: JsonSchema): { body: unknown; mustReject: boolean; kind: string } {
      const base = valid(schema) as Record<string, unknown> | null;
      const props = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
      const required = (schema.required ?? []) as string[];
      const r = random();
      if (r < 0.15) return { body: base, mustReject: false, kind: 'plausible' };
      if (r < 0.3 && required.length > 0 && base && typeof base === 'object') {
        const copy = { ...base };
        delete copy[pick(required)];
        return { body: copy, mustReject: true, kind: 'missing-required' };
      }
      if (r < 0.55 && props.length > 0 && base && typeof base === 'object') {
        const key = pick(props);
        return {
          body: {
            ...base,
            [key]: wrongType(base[key] ?? valid((schema.properties as Record<string, JsonSchema>)[key], key)),
          },
          mustReject: false,
          kind: 'wrong-type',
        };
      }
      if (r < 0.7 && props.length > 0 && base && typeof base === 'object') {
        const key = pick(props);
        return { body: { ...base, [key]: pick(NASTY_STRINGS) }, mustReject: false, kind: 'nasty-string' };
      }
      if (r < 0.8) {
        const roots: unknown[] = schema.nullable
          ? [[], 'string', 123, true, [base]]
          : [[], 'string', 123, null, true, [base]];
        return { body: pick(roots), mustReject: true, kind: 'wrong-root' };
      }
      const polluted = JSON.parse(
        `{"__proto__":{"admin":true,"role":"STAFF"},"constructor":{"prototype":{"x":1}}}`,
      ) as Record<string, unknown>;
      return { body: { ...polluted, ...(base ?? {}) }, mustReject: false, kind: 'prototype-keys' };
    }

    function fillPath(op: Op, value: () => string): string {
      let path = op.path;
      for (const name of op.pathParams) {
        const v = name === 'slug' ? (random() < 0.5 ? pick(['demo', 'nope', 'DEMO']) : value()) : value();
        path = path.replace(`{${name}}`, v);
      }
      return path;
    }
    function queryString(op: Op, nasty: boolean): string {
      if (op.query.length === 0)
        return nasty && random() < 0.3 ? `?${pick(QUERY_VALUES)}=${pick(QUERY_VALUES)}` : '';
      const parts: string[] = [];
      for (const q of op.query) {
        if (q.name === 'stoken' && !nasty) continue;
        if (random() < 0.3) continue;
        const plausible = valid(q.schema, q.name);
        const v = nasty && random() < 0.6 ? pick(QUERY_VALUES) : safeEncode(String(plausible ?? ''));
        parts.push(`${q.name}=${v}`);
        if (random() < 0.05) parts.push(`${q.name}=${v}`); // repeated key
      }
      if (nasty && random() < 0.1) parts.push('__proto__[admin]=true');
      return parts.length > 0 ? `?${parts.join('&')}` : '';
    }

    const isApi = (op: Op) => op.path.startsWith('/api/v1') || op.path.startsWith('/api/staff');
    const isPublic = (op: Op) => op.path.startsWith('/api/public');
    const isTwilio = (op: Op) => op.path.startsWith('/webhooks/twilio');
    const isStripe = (op: Op) => op.path === '/webhooks/stripe';
    const hasBody = (op: Op) => ['POST', 'PUT', 'PATCH'].includes(op.method);

    // Phase A: requests that must be rejected whatever the route does.
    function rejectOnly(op: Op): Req | null {
      const r = random();
      const headers: Record<string, string> = {};
      let body: string | Buffer | undefined;
      let label = '';
      let path = fillPath(op, () => (random() < 0.5 ? pick(PATH_VALUES) : idPool())) + queryString(op, true);
      if (isApi(op) && op.path !== '/api/v1/stream') {
        const auth = pick(invalidAuth);
        if (auth) headers.authorization = auth;
        label = `auth:${auth ? auth.slice(0, 12) : 'none'}`;
        if (hasBody(op)) {
          headers['content-type'] = 'application/json';
          body = JSON.stringify(op.body ? valid(op.body) : {});
          if (random() < 0.2) headers['x-idempotency-key'] = pick(['k1', 'x'.repeat(300), 'a b', '', '\t']);
        }
      } else if (op.path === '/api/v1/stream') {
        path = `/api/v1/stream?stoken=${pick(['', 'x', randomUUIDFrom(random), 'eyJhbGciOi.x.y', '%00'])}`;
        label = 'stream:bad-stoken';
      } else if (isTwilio(op)) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        const params: Record<string, string> = {
          AccountSid: SANDBOX_ACCOUNT.accountSid,
          From: pick(['+13105550100', '__proto__', '\u0000', '']),
          To: DEMO.twilio_number,
          CallSid: twilioSid('CA'),
          MessageSid: twilioSid('SM'),
          Body: pick(NASTY_STRINGS),
          MessageStatus: 'delivered',
          DialCallStatus: 'no-answer',
        };
        body = new URLSearchParams(params).toString();
        const sig = pick([
          undefined,
          '',
          'abc',
          signTwilioRequest('wrong-token-xxxxxxxx', `${baseUrl}${op.path}`, params),
          'A'.repeat(28),
        ]);
        if (sig !== undefined) headers['x-twilio-signature'] = sig;
        label = `twilio:bad-signature`;
      } else if (isStripe(op)) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify({
          id: 'evt_fuzz',
          type: 'customer.subscription.updated',
          created: 1,
          data: { object: {} },
        });
        const sig = pick([
          undefined,
          't=1,v1=abc',
          Stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_not_ours' }),
          '',
        ]);
        if (sig !== undefined) headers['stripe-signature'] = sig;
        label = 'stripe:bad-signature';
      } else if (isPublic(op)) {
        if (!hasBody(op)) {
          if (op.method !== 'DELETE') return null;
          // DELETE of a hold that does not exist (or is not a uuid)
          path = `/api/public/${pick(['demo', 'nope', '__proto__'])}/holds/${pick([...PATH_VALUES, randomUUIDFrom(random)])}`;
          label = 'public:delete-unknown';
        } else {
          const kind = pick(['malformed', 'oversized', 'content-type', 'missing']);
          label = `public:${kind}`;
          headers['content-type'] = 'application/json';
          if (kind === 'malformed') body = pick(MALFORMED_JSON);
          else if (kind === 'oversized') body = `{"x":"${'a'.repeat(300 * 1024)}"}`;
          else if (kind === 'content-type') {
            headers['content-type'] = pick(CONTENT_TYPES);
            body = JSON.stringify(op.body ? valid(op.body) : {});
          } else body = '{}';
        }
      } else {
        // ops routes: GET with junk (they answer 200 to anyone; not a rejection)
        return { method: op.method, path, headers, expectReject: false, label: 'ops:junk-query' };
      }
      if (r < 0.1 && hasBody(op) && !isTwilio(op) && !isStripe(op) && !isPublic(op)) {
        body = `{"x":"${'a'.repeat(300 * 1024)}"}`;
        label += '+oversized';
      }
      return {
        method: op.method,
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
        expectReject: true,
        label,
      };
    }

    // Phase B: valid credentials (or signatures) with bad inputs; some may be accepted.
    function withCredentials(op: Op): Req {
      const headers: Record<string, string> = {};
      let body: string | Buffer | undefined;
      let expectReject = false;
      let label = '';
      const auth = pick(validAuth);
      avoidForeign = auth.includes(staff);
      let path = fillPath(op, idPool);
      const nastyQuery = random() < 0.6;
      path += queryString(op, nastyQuery);
      if (isApi(op) || isPublic(op)) {
        if (isApi(op)) headers.authorization = auth;
        label = `valid-token`;
        if (hasBody(op)) {
          const r = random();
          if (r < 0.12) {
            headers['content-type'] = 'application/json';
            body = pick(MALFORMED_JSON);
            expectReject = true;
            label += ':malformed';
          } else if (r < 0.2) {
            headers['content-type'] = pick(CONTENT_TYPES);
            body = JSON.stringify(op.body ? valid(op.body) : {});
            label += ':content-type';
            // Only types no parser of the app accepts count as certain rejections.
            expectReject = [
              'application/xml',
              'multipart/form-data; boundary=xyz',
              'application/octet-stream',
            ].includes(headers['content-type']);
          } else if (r < 0.26) {
            headers['content-type'] = 'application/json';
            body = `{"x":"${'a'.repeat(300 * 1024)}"}`;
            expectReject = true;
            label += ':oversized';
          } else if (op.body) {
            const m = mutate(op.body);
            headers['content-type'] = 'application/json';
            body = JSON.stringify(m.body);
            expectReject = m.mustReject;
            label += `:${m.kind}`;
          } else {
            headers['content-type'] = 'application/json';
            body = random() < 0.5 ? '{}' : JSON.stringify({ surprise: pick(NASTY_STRINGS) });
            label += ':no-schema';
          }
        }
      } else if (isTwilio(op)) {
        // Signed correctly, with hostile parameters: the handler must answer 2xx/4xx, never 5xx.
        headers['content-type'] = 'application/x-www-form-urlencoded';
        const from = pick([
          '+13105550100',
          '__proto__',
          '\u0000',
          '',
          '+1',
          '+999999999999999',
          '😀',
          'x'.repeat(64),
        ]);
        rememberSecret('+13105550100', 'phone');
        const params: Record<string, string> = {
          AccountSid: SANDBOX_ACCOUNT.accountSid,
          From: from,
          To: pick([DEMO.twilio_number, '+15005550010', '__proto__', '']),
          CallSid: pick([twilioSid('CA'), 'CA__proto__', '']),
          MessageSid: pick([twilioSid('SM'), twilioSid('MM'), 'SM%00', '']),
          Body: pick(NASTY_STRINGS),
          NumMedia: pick(['0', '1', '10', '11', '-1', 'x', '1e3']),
          MediaUrl0: pick(['https://example.com/a.jpg', '\u0000', 'x'.repeat(3000)]),
          MessageStatus: pick(['delivered', 'sent', 'failed', 'undelivered', 'bogus', '']),
          ErrorCode: pick(['', '30003', '21610', 'x', '9999999']),
          DialCallStatus: pick(['no-answer', 'busy', 'completed', 'failed', 'canceled', 'bogus']),
          DialCallDuration: pick(['0', '-1', 'x', '1e9']),
          Digits: pick(['1', '', '#'.repeat(20)]),
          ParentCallSid: twilioSid('CA'),
          OptOutType: pick(['STOP', 'START', 'HELP', 'BOGUS']),
          __proto__x: '1',
        };
        if (random() < 0.3) params[pick(['To', 'From', 'Body', 'MessageSid'])] = '';
        if (op.path === '/webhooks/twilio/sms/status') {
          const t = pick([demo!.id, randomUUIDFrom(random), 'x']);
          const m = pick([...demoConv.messageIds, randomUUIDFrom(random), 'x']);
          path = `${op.path}?tenant=${t}&message=${m}`;
        } else {
          path = op.path;
        }
        body = new URLSearchParams(params).toString();
        const signature = signTwilioRequest(
          SANDBOX_ACCOUNT.authToken,
          `${system.config.PUBLIC_BASE_URL}${path}`,
          params,
        );
        rememberSecret(signature, 'signature');
        headers['x-twilio-signature'] = signature;
        label = 'twilio:signed-hostile';
      } else if (isStripe(op)) {
        headers['content-type'] = 'application/json';
        const payload = pick([
          '{not json',
          JSON.stringify({ hello: 'world' }),
          JSON.stringify({
            id: `evt_${Math.floor(random() * 1e9)}`,
            object: 'event',
            type: 'customer.subscription.updated',
            created: 1,
            data: { object: { id: 'sub_x', customer: 'cus_nobody', status: 'active', created: 1 } },
          }),
          JSON.stringify({
            id: `evt_${Math.floor(random() * 1e9)}`,
            object: 'event',
            type: 'invoice.paid',
            created: -1,
            data: { object: { customer: 123 } },
          }),
          JSON.stringify({
            id: 'x'.repeat(300),
            type: 'customer.subscription.deleted',
            created: 1,
            data: { object: null },
          }),
          JSON.stringify({
            id: 'evt_proto',
            type: '__proto__',
            created: 1,
            data: { object: { __proto__: { a: 1 } } },
          }),
        ]);
        const signature = Stripe.webhooks.generateTestHeaderString({
          payload,
          secret: SANDBOX_STRIPE.webhookSecret,
        });
        rememberSecret(signature.split('v1=')[1] ?? signature, 'signature');
        headers['stripe-signature'] = signature;
        body = payload;
        label = 'stripe:signed-hostile';
      } else {
        label = 'ops';
      }
      avoidForeign = false;
      return {
        method: op.method,
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
        expectReject,
        label,
      };
    }

    // --- sending --------------------------------------------------------------------------------
    function send(req: Req): Promise<Res> {
      const t0 = Date.now();
      return new Promise((resolve) => {
        let done = false;
        const finish = (res: Res) => {
          if (!done) {
            done = true;
            resolve(res);
          }
        };
        let r: ReturnType<typeof httpRequest>;
        try {
          r = httpRequest(
            {
              host: '127.0.0.1',
              port,
              method: req.method,
              path: req.path,
              headers: req.headers,
              agent,
              timeout: REQUEST_TIMEOUT_MS,
            },
            (res) => {
              const chunks: Buffer[] = [];
              let size = 0;
              res.on('data', (c: Buffer) => {
                size += c.length;
                if (size < 4096) chunks.push(c);
                if (req.path.startsWith('/api/v1/stream') && res.statusCode === 200) res.destroy();
              });
              res.on('end', () =>
                finish({
                  status: res.statusCode ?? 0,
                  body: Buffer.concat(chunks).toString('utf8'),
                  ms: Date.now() - t0,
                }),
              );
              res.on('close', () =>
                finish({
                  status: res.statusCode ?? 0,
                  body: Buffer.concat(chunks).toString('utf8'),
                  ms: Date.now() - t0,
                }),
              );
            },
          );
        } catch (err) {
          finish({ status: -1, body: `client refused to send: ${(err as Error).message}`, ms: 0 });
          return;
        }
        r.on('timeout', () => {
          r.destroy();
          finish({ status: 0, body: 'timeout', ms: Date.now() - t0 });
        });
        r.on('error', (err) => finish({ status: 0, body: `error: ${err.message}`, ms: Date.now() - t0 }));
        if (req.body !== undefined) r.write(req.body);
        r.end();
      });
    }
    async function sendAll(reqs: Req[]): Promise<Res[]> {
      const out: Res[] = new Array(reqs.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (;;) {
            const i = next++;
            if (i >= reqs.length) return;
            out[i] = await send(reqs[i] as Req);
          }
        }),
      );
      return out;
    }

    const tables = (
      await db.query<{ relname: string }>(
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public' ORDER BY relname",
      )
    ).rows.map((r) => r.relname);
    async function snapshot(): Promise<Record<string, number>> {
      const sql = tables
        .map((t) => `SELECT '${t}' AS t, count(*)::int AS n FROM public."${t}"`)
        .join(' UNION ALL ');
      const { rows } = await db.query<{ t: string; n: number }>(sql);
      return Object.fromEntries(rows.map((r) => [r.t, r.n]));
    }
    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.keys(b)
        .filter((t) => a[t] !== b[t])
        .map((t) => ({ table: t, before: a[t] ?? 0, after: b[t] ?? 0 }));
    async function quiet(): Promise<Record<string, number>> {
      let prev = await snapshot();
      for (let i = 0; i < 20; i++) {
        await sleep(150);
        const cur = await snapshot();
        if (diff(prev, cur).length === 0) return cur;
        prev = cur;
      }
      return prev;
    }
    const foreignHash = async () => {
      const parts: string[] = [];
      for (const t of tables) {
        const has = await db.query(
          "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = 'tenant_id'",
          [t],
        );
        if (has.rowCount === 0) continue;
        const { rows } = await db.query<{ h: string | null }>(
          `SELECT md5(string_agg(row_to_json(x)::text, ',' ORDER BY row_to_json(x)::text)) AS h FROM public."${t}" x WHERE tenant_id = $1`,
          [foreign.id],
        );
        parts.push(`${t}:${rows[0]?.h ?? '-'}`);
      }
      return parts;
    };

    // --- run ---------------------------------------------------------------------------------------
    const fiveHundreds: Array<{ req: Req; res: Res }> = [];
    const noAnswer: Array<{ req: Req; res: Res }> = [];
    const unauthorized2xx: Array<{ req: Req; res: Res }> = [];
    const crossTenant2xx: Array<{ req: Req; res: Res }> = [];
    const writesByRejected: string[] = [];
    const statusCounts = new Map<number, number>();
    let total = 0;
    let checkedBatches = 0;
    let skippedBatches = 0;
    let auditRowsFromRejected = 0;
    let slowest: { req: Req; res: Res } | null = null;
    // The foreign tenant's greeting is still being delivered by the workers (its status moves on
    // its own), and its events are still reaching the outbox's subscribers (their consumptions are
    // its rows too): wait until both are done, so only fuzzed requests could change its rows.
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT (SELECT count(*)::int FROM conv_messages WHERE tenant_id = $1 AND direction = 'out' AND status NOT IN ('delivered', 'failed'))
              + (SELECT count(*)::int FROM outbox_events WHERE tenant_id = $1 AND dispatched_at IS NULL) AS n`,
        [foreign.id],
      );
      if ((rows[0]?.n ?? 0) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const foreignBefore = await foreignHash();

    async function runBatch(reqs: Req[], check: boolean): Promise<void> {
      const before = check ? await quiet() : null;
      const results = await sendAll(reqs);
      total += reqs.length;
      let any2xx = false;
      results.forEach((res, i) => {
        const req = reqs[i] as Req;
        statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);
        if (!slowest || res.ms > slowest.res.ms) slowest = { req, res };
        if (res.status >= 500) fiveHundreds.push({ req, res });
        if (res.status <= 0) noAnswer.push({ req, res });
        if (res.status >= 200 && res.status < 300) {
          any2xx = true;
          if (req.expectReject && req.label.startsWith('auth:')) unauthorized2xx.push({ req, res });
          else if (req.expectReject) unauthorized2xx.push({ req, res });
          const pathOnly = req.path.split('?')[0] ?? '';
          const sent = `${req.path} ${String(req.body ?? '')}`;
          if (req.path.startsWith('/api/v1') && foreignIds.some((id) => pathOnly.includes(id)))
            crossTenant2xx.push({ req, res });
          else if (
            (req.path.startsWith('/api/v1') || req.path.startsWith('/api/public')) &&
            (foreignIds.some((id) => res.body.includes(id) && !sent.includes(id)) ||
              res.body.includes('Foreign Plumbing'))
          )
            crossTenant2xx.push({ req, res });
        }
      });
      if (!check || !before) return;
      if (any2xx) {
        skippedBatches += 1;
        return;
      }
      await sleep(200);
      const after = await quiet();
      checkedBatches += 1;
      const changed = diff(before, after);
      for (const c of changed) {
        if (WRITES_BY_DESIGN.has(c.table)) auditRowsFromRejected += c.after - c.before;
      }
      const unexpected = changed.filter((c) => !WRITES_BY_DESIGN.has(c.table));
      if (unexpected.length > 0) {
        // Find the culprits one request at a time (first few).
        const culprits: string[] = [];
        for (const req of reqs.slice(0, 60)) {
          if (culprits.length >= 3) break;
          const b = await quiet();
          const res = await send(req);
          const a = await quiet();
          const d = diff(b, a).filter((c) => !WRITES_BY_DESIGN.has(c.table));
          if (d.length > 0)
            culprits.push(
              `${req.method} ${req.path.slice(0, 120)} [${req.label}] → ${res.status}, wrote ${d.map((x) => `${x.table} +${x.after - x.before}`).join(', ')}`,
            );
        }
        writesByRejected.push(
          `batch changed ${unexpected.map((c) => `${c.table} ${c.before}→${c.after}`).join(', ')}${culprits.length > 0 ? `; e.g. ${culprits.join(' | ')}` : '; not reproduced one at a time (background work?)'}`,
        );
      }
    }

    // Phase A: reject-only, in batches, each checked.
    const phaseA: Req[] = [];
    while (phaseA.length < TARGET_REQUESTS * 0.45) {
      for (const op of ops) {
        const req = rejectOnly(op);
        if (req) phaseA.push(req);
      }
    }
    const checkedA = phaseA.filter((r) => r.expectReject);
    const uncheckedA = phaseA.filter((r) => !r.expectReject);
    for (let i = 0; i < checkedA.length; i += BATCH) await runBatch(checkedA.slice(i, i + BATCH), true);
    for (let i = 0; i < uncheckedA.length; i += BATCH) await runBatch(uncheckedA.slice(i, i + BATCH), false);
    const afterA = total;

    // Phase B: credentials and hostile inputs. Expected rejections are batched and checked apart.
    const phaseB: Req[] = [];
    while (phaseA.length + phaseB.length < TARGET_REQUESTS) {
      for (const op of ops) phaseB.push(withCredentials(op));
    }
    // Targeted: NUL and friends where they reach the database, and a huge availability range.
    const ownerAuth = { authorization: `Bearer ${owner}`, 'content-type': 'application/json' };
    const service = (await idsOf('catalog_services', demo.id))[0] ?? randomUUIDFrom(random);
    const nulSms = {
      AccountSid: SANDBOX_ACCOUNT.accountSid,
      From: demoCaller as string,
      To: DEMO.twilio_number,
      MessageSid: twilioSid('SM'),
      Body: 'hello\u0000there',
      NumMedia: '0',
    };
    const nulSig = signTwilioRequest(
      SANDBOX_ACCOUNT.authToken,
      `${system.config.PUBLIC_BASE_URL}/webhooks/twilio/sms`,
      nulSms,
    );
    rememberSecret(nulSig, 'signature');
    const targeted: Req[] = [
      {
        method: 'POST',
        path: '/webhooks/twilio/sms',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': nulSig },
        body: new URLSearchParams(nulSms).toString(),
        expectReject: false,
        label: 'targeted:sms-body-NUL',
      },
      {
        method: 'POST',
        path: `/api/v1/conversations/${demoConv.conversationId}/messages`,
        headers: ownerAuth,
        body: JSON.stringify({ body: 'hi\u0000' }),
        expectReject: false,
        label: 'targeted:operator-message-NUL',
      },
      {
        method: 'POST',
        path: '/api/v1/resources',
        headers: ownerAuth,
        body: JSON.stringify({ name: 'a\u0000', time_zone: 'UTC' }),
        expectReject: false,
        label: 'targeted:resource-name-NUL',
      },
      {
        method: 'PATCH',
        path: `/api/v1/services/${service}`,
        headers: ownerAuth,
        body: JSON.stringify({ aliases: ['x\u0000'] }),
        expectReject: false,
        label: 'targeted:service-alias-NUL',
      },
      {
        method: 'GET',
        path: '/api/v1/conversations?caller=%00',
        headers: { authorization: `Bearer ${owner}` },
        expectReject: false,
        label: 'targeted:caller-query-NUL',
      },
      {
        method: 'GET',
        path: `/api/public/demo/availability?service_id=${service}&from=2026-01-01T00:00:00Z&to=2036-01-01T00:00:00Z`,
        headers: {},
        expectReject: false,
        label: 'targeted:availability-10-years',
      },
      {
        method: 'GET',
        path: `/api/v1/availability?service_id=${service}&from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z`,
        headers: { authorization: `Bearer ${owner}` },
        expectReject: false,
        label: 'targeted:availability-all-time',
      },
    ];
    phaseB.push(...targeted);
    // Operators are provisioned (id_users) on their first authenticated request, whatever its outcome:
    // one request per token first, so that the reject batches below measure the requests themselves.
    for (const auth of validAuth)
      await send({
        method: 'GET',
        path: '/api/v1/conversations',
        headers: { authorization: auth },
        expectReject: false,
        label: 'warm-up',
      });
    await quiet();
    const rejects = phaseB.filter((r) => r.expectReject);
    const others = phaseB.filter((r) => !r.expectReject);
    for (let i = 0; i < rejects.length; i += BATCH) await runBatch(rejects.slice(i, i + BATCH), true);
    for (let i = 0; i < others.length; i += BATCH) await runBatch(others.slice(i, i + BATCH), false);
    await sleep(500);
    const foreignAfter = await foreignHash();
    const foreignChanged = foreignBefore.filter((h, i) => h !== foreignAfter[i]);

    // --- verdict ---------------------------------------------------------------------------------
    const sample = (x: { req: Req; res: Res }) => {
      const body = x.req.body === undefined ? '' : String(x.req.body).slice(0, 120);
      const code = /"code":"([^"]+)"/.exec(x.res.body)?.[1] ?? x.res.body.slice(0, 80);
      return `${x.req.method} ${x.req.path.slice(0, 140)} [${x.req.label}${x.req.headers['content-type'] ? ` ${x.req.headers['content-type']}` : ''}] body=${JSON.stringify(body)} → ${x.res.status} ${code}`;
    };
    const byRoute = new Map<string, { req: Req; res: Res }[]>();
    for (const f of fiveHundreds) {
      const op = ops.find((o) =>
        new RegExp(`^${o.path.replace(/\{[^}]+\}/g, '[^/]+')}(\\?|$)`).test(f.req.path.split('?')[0] ?? ''),
      );
      const key = `${f.req.method} ${op?.path ?? f.req.path.split('?')[0]?.slice(0, 60)} ${f.res.status}`;
      byRoute.set(key, [...(byRoute.get(key) ?? []), f]);
    }
    const statuses = [...statusCounts.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    figures.push(
      `${total} requests over ${ops.length} operations (phase A reject-only ${afterA}, phase B ${total - afterA}), seed ${SEED}`,
    );
    figures.push(`statuses ${statuses}`);
    figures.push(
      `5xx: ${fiveHundreds.length}${byRoute.size > 0 ? ` on ${[...byRoute.keys()].join('; ')}` : ''}`,
    );
    figures.push(`no answer/timeouts: ${noAnswer.length}`);
    const slow = slowest as { req: Req; res: Res } | null;
    if (slow)
      figures.push(
        `slowest: ${slow.res.ms} ms (${slow.req.method} ${slow.req.path.split('?')[0]?.slice(0, 60)} [${slow.req.label}] → ${slow.res.status})`,
      );
    figures.push(
      `rejected batches checked for writes: ${checkedBatches} (with a 2xx, not checked: ${skippedBatches}); unexpected writes: ${writesByRejected.length}; audit rows for rejected attempts (by design): ${auditRowsFromRejected}`,
    );
    figures.push(
      `2xx without valid credentials: ${unauthorized2xx.length}; 2xx on a foreign id: ${crossTenant2xx.length}; foreign tenant rows changed: ${foreignChanged.length}`,
    );
    if (fiveHundreds.length > 0) {
      ok = false;
      // Evidence: the error the app logged for the sample's correlation id.
      const logged = new Map<string, string>();
      try {
        for (const line of (await readFile(sys.logFile, 'utf8')).split('\n')) {
          if (!line.includes('"level":50')) continue;
          const parsed = JSON.parse(line) as {
            correlation_id?: string;
            err?: { message?: string; type?: string };
          };
          if (parsed.correlation_id)
            logged.set(
              parsed.correlation_id,
              `${parsed.err?.type ?? ''}: ${parsed.err?.message ?? ''}`.slice(0, 200),
            );
        }
      } catch {
        // no log evidence
      }
      for (const [key, list] of byRoute) {
        const first = list[0] as { req: Req; res: Res };
        const correlation = /"correlation_id":"([^"]+)"/.exec(first.res.body)?.[1] ?? '';
        const why = logged.get(correlation);
        findings.push(`5xx ${key} ×${list.length}, e.g. ${sample(first)}${why ? ` — logged: ${why}` : ''}`);
      }
    }
    if (noAnswer.length > 0) {
      ok = false;
      findings.push(
        `no answer ×${noAnswer.length}, e.g. ${noAnswer
          .slice(0, 3)
          .map((x) => `${sample(x)} (${x.res.body})`)
          .join(' | ')}`,
      );
    }
    if (writesByRejected.length > 0) {
      ok = false;
      findings.push(...writesByRejected.slice(0, 5).map((w) => `rejected requests wrote rows: ${w}`));
    }
    if (unauthorized2xx.length > 0) {
      ok = false;
      findings.push(
        `2xx to a request that had to be rejected ×${unauthorized2xx.length}, e.g. ${unauthorized2xx.slice(0, 3).map(sample).join(' | ')}`,
      );
    }
    if (crossTenant2xx.length > 0) {
      ok = false;
      findings.push(
        `2xx on another tenant's id ×${crossTenant2xx.length}, e.g. ${crossTenant2xx.slice(0, 3).map(sample).join(' | ')}`,
      );
    }
    if (foreignChanged.length > 0) {
      ok = false;
      findings.push(
        `foreign tenant rows changed in: ${foreignChanged.map((h) => h.split(':')[0]).join(', ')}`,
      );
    }
  } finally {
    agent.destroy();
    await sys.stop();
  }
  return {
    scenario: '5 fuzz',
    verdict: ok ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}

function randomUUIDFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function safeEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80'; // a lone surrogate: invalid UTF-8 on the wire
  }
}
