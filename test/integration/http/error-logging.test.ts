import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { DEMO, seedDemo } from '../../../src/persistence/seed-demo.ts';
import type { Dispatch } from '../../../src/runtime/dispatch.ts';
import { buildTestApp } from '../../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// A request that fails in Postgres is logged with what Postgres said (code, constraint, detail)
// so it can be understood, but never with the phone number Postgres quotes in `detail`: the
// central error handler logs the real pg error through the production logger's sanitizer.

let database: TestDatabase;
let app: App;
let logLines: () => string[];
let tenant: Tenant;
// What the engine runs for an operator action; set per test to the statement that fails.
let failingStatement: () => Promise<unknown> = async () => undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedDemo(database.pool);
  const dispatch: Dispatch = async () => {
    await failingStatement();
    throw new Error('the failing statement did not fail');
  };
  ({ app, logLines } = await buildTestApp(database.pool, {
    dispatch,
    auth: {
      verify: async () => ({ sub: 'owner-logging', org_id: DEMO.auth_org_id, org_role: 'org:admin' }),
      orgClaim: 'org_id',
      roleClaim: 'org_role',
      staffOrgId: null,
    },
  }));
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const optOut = (phone: string) =>
  database.pool.query("INSERT INTO comp_opt_outs (tenant_id, phone, source) VALUES ($1, $2, 'operator')", [
    tenant.id,
    phone,
  ]);

async function failedRequestLog(message = 'request failed'): Promise<{ status: number; line: string }> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/conversations/${randomUUID()}/takeover`,
    headers: { authorization: 'Bearer x.y.z', 'x-correlation-id': `logging-${randomUUID()}` },
    payload: {},
  });
  const correlationId = res.headers['x-correlation-id'];
  const line = logLines().find((l) => l.includes(String(correlationId)) && l.includes(message)) ?? '';
  return { status: res.statusCode, line };
}

describe('a Postgres error is logged with its detail, and the phone number in it redacted', () => {
  it('a unique violation quoting an E.164 number', async () => {
    await optOut('+13105551212');
    failingStatement = () => optOut('+13105551212');
    const { status, line } = await failedRequestLog();
    expect(status).toBe(500);
    const err = JSON.parse(line).err;
    expect(err.code).toBe('23505');
    expect(err.constraint).toBe('comp_opt_outs_pkey');
    expect(err.detail).toContain('already exists');
    expect(err.detail).toContain(tenant.id);
    expect(line).not.toMatch(/310.?555.?1212/);
  });

  it('a check violation quoting a bare 10-digit number', async () => {
    failingStatement = () => optOut('3105551212');
    const { status, line } = await failedRequestLog();
    expect(status).toBe(500);
    const err = JSON.parse(line).err;
    expect(err.code).toBe('23514');
    expect(err.detail).toContain('Failing row contains');
    expect(err.detail).toContain('[number]');
    expect(line).not.toContain('3105551212');
  });

  it('a data exception whose message quotes the number: a 400, logged as a warning, redacted', async () => {
    // "value "3105551212" is out of range for type integer" (22003): the value is in the message.
    failingStatement = () => database.pool.query('SELECT $1::int', ['3105551212']);
    const { status, line } = await failedRequestLog('request refused below its schema');
    expect(status).toBe(400);
    expect(line).toContain('out of range for type integer');
    expect(line).not.toContain('3105551212');
    const logged = JSON.parse(line);
    expect(logged.level).toBe(40);
    expect(logged.err.code).toBe('22003');
  });
});
