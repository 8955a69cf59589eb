import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevIssuerFor } from '../../../src/providers/auth/operator-auth.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// OWNER closes a day (a holiday) or sets special hours for a resource; availability follows.

let t: TestSystem;
let owner: string;
beforeAll(async () => {
  t = await startTestSystem();
  owner = await (await openDevIssuerFor(t.system.config)).mint({
    subject: 'owner-ex',
    org: 'org_demo',
    role: 'org:admin',
  });
});
afterAll(async () => {
  await t?.stop();
});

async function call(method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  const res = await t.system.app?.inject({
    method,
    url,
    headers: { authorization: `Bearer ${owner}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  if (!res) throw new Error('no app');
  return res;
}

function nextWeekday(): string {
  const day = new Date(Date.now() + 3 * 86_400_000);
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

describe('resource exceptions', () => {
  it('a closed day removes every slot of that day, special hours replace them, deleting restores them', async () => {
    const resource = (await call('GET', '/api/v1/resources')).json().items[0];
    const service = (await call('GET', '/api/v1/services?active=true')).json().items[0];
    const date = nextWeekday();
    const window = `from=${date}T00:00:00Z&to=${date}T23:59:59Z`;
    const slots = async () =>
      (await call('GET', `/api/v1/availability?service_id=${service.id}&${window}`)).json().items as {
        start: string;
      }[];

    const normal = await slots();
    expect(normal.length).toBeGreaterThan(0);

    expect(
      (await call('PUT', `/api/v1/resources/${resource.id}/exceptions/${date}`, { intervals: [] }))
        .statusCode,
    ).toBe(204);
    expect(await slots()).toEqual([]);
    const listed = await call('GET', `/api/v1/resources/${resource.id}/exceptions?from=${date}&to=${date}`);
    expect(listed.json().items).toEqual([{ resource_id: resource.id, date, intervals: [] }]);

    const special = { intervals: [{ start: '10:00', end: '12:00' }] };
    expect(
      (await call('PUT', `/api/v1/resources/${resource.id}/exceptions/${date}`, special)).statusCode,
    ).toBe(204);
    const short = await slots();
    expect(short.length).toBeGreaterThan(0);
    expect(short.length).toBeLessThan(normal.length);

    expect((await call('DELETE', `/api/v1/resources/${resource.id}/exceptions/${date}`)).statusCode).toBe(
      204,
    );
    expect(await slots()).toEqual(normal);
  });

  it('refuses an interval that ends before it starts, and a date that is not one', async () => {
    const resource = (await call('GET', '/api/v1/resources')).json().items[0];
    const bad = await call('PUT', `/api/v1/resources/${resource.id}/exceptions/2031-02-01`, {
      intervals: [{ start: '12:00', end: '10:00' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(
      (await call('PUT', `/api/v1/resources/${resource.id}/exceptions/2031-02-30`, { intervals: [] }))
        .statusCode,
    ).toBe(400);
  });
});
