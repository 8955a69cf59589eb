import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { openDevIssuerFor } from '../../../src/providers/auth/operator-auth.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// Input Postgres cannot store (a NUL byte) is the client's mistake: 400, never 500, nothing written.

let t: TestSystem;
let token: string;
beforeAll(async () => {
  t = await startTestSystem();
  token = await (await openDevIssuerFor(t.system.config)).mint({
    subject: 'owner-nul',
    org: 'org_demo',
    role: 'org:admin',
  });
});
afterAll(async () => {
  await t?.stop();
});

async function counts(): Promise<number[]> {
  const { rows } = await t.system.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM conv_messages UNION ALL SELECT count(*)::int FROM catalog_services
     UNION ALL SELECT count(*)::int FROM conv_conversations`,
  );
  return rows.map((r) => r.n);
}

describe('NUL bytes', () => {
  it('in an inbound SMS body → 400 envelope, nothing written', async () => {
    const before = await counts();
    const res = await t.phone.sms({ from: '+13105550444', to: DEMO.twilio_number, body: 'hi\u0000there' });
    expect(res.response.status).toBe(400);
    expect(JSON.parse(res.response.body).error.code).toBe('validation_failed');
    expect(await counts()).toEqual(before);
  });

  it('in a service name → 400 envelope, nothing written', async () => {
    const before = await counts();
    const res = await t.system.app?.inject({
      method: 'POST',
      url: '/api/v1/services',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        name: 'Drain\u0000x',
        duration_minutes: 30,
        price: { amount_cents: 100, currency: 'USD' },
        active: true,
        aliases: [],
      },
    });
    expect(res?.statusCode).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('in a public slug → 404, not 500', async () => {
    const res = await t.system.app?.inject({ method: 'GET', url: '/api/public/a%00b/services' });
    expect(res?.statusCode).toBe(404);
    expect(res?.json().error.code).toBe('not_found');
  });
});
