import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../../src/http/app.ts';
import { createPool } from '../../../src/persistence/db.ts';
import { buildTestApp } from '../../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

let database: TestDatabase;
let app: App;
let logLines: () => string[];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ app, logLines } = await buildTestApp(database.pool));
  // Two routes that exist only here: one that echoes a validated body, one that breaks its own schema.
  app.post(
    '/test/echo',
    {
      schema: {
        body: z.object({ name: z.string().max(20) }),
        response: { 200: z.object({ name: z.string() }) },
      },
    },
    async (request) => ({ name: request.body.name }),
  );
  app.get(
    '/test/broken',
    { schema: { response: { 200: z.object({ count: z.number().int() }) } } },
    async () => ({ count: 'many' }) as unknown as { count: number },
  );
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await database.drop();
});

function expectEnvelope(body: string, code: string) {
  const parsed = JSON.parse(body);
  expect(parsed).toEqual({
    error: { code, message: expect.any(String), correlation_id: expect.any(String) },
  });
}

describe('error envelope', () => {
  it('answers an unknown route with 404 not_found', async () => {
    const res = await app.inject({ method: 'GET', url: '/no/such/route' });
    expect(res.statusCode).toBe(404);
    expectEnvelope(res.body, 'not_found');
  });

  it('answers a known path with an unsupported method 405 method_not_allowed, naming the allowed ones', async () => {
    for (const [method, url, allow] of [
      ['DELETE', '/api/v1/conversations', 'GET, HEAD'],
      ['DELETE', '/api/v1/conversations/', 'GET, HEAD'],
      ['PUT', '/healthz', 'GET, HEAD'],
      ['GET', '/webhooks/twilio/sms', 'POST'],
      ['PUT', '/api/v1/conversations/2b7f4c1e-0000-4000-8000-000000000000', 'GET, HEAD'],
      ['GET', '/api/v1/users/anything', 'DELETE, PATCH'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow, `${method} ${url}`).toBe(allow);
      expectEnvelope(res.body, 'method_not_allowed');
    }
    // A path no route has stays 404, whatever the method.
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/nothing-here' })).statusCode).toBe(404);
  });

  it('answers malformed JSON with 400 malformed_body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.body, 'malformed_body');
  });

  it('answers a schema violation with 400 validation_failed naming the field', async () => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'x'.repeat(50) } });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.body, 'validation_failed');
    expect(JSON.parse(res.body).error.message).toContain('name');
  });

  it('answers an oversized body with 413 payload_too_large', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(400 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expectEnvelope(res.body, 'payload_too_large');
  });

  it('answers a wrong content type with 415 unsupported_media_type', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<name>x</name>',
    });
    expect(res.statusCode).toBe(415);
    expectEnvelope(res.body, 'unsupported_media_type');
  });

  it('turns a response that breaks its schema into 500 contract_violation, never a malformed 200', async () => {
    const res = await app.inject({ method: 'GET', url: '/test/broken' });
    expect(res.statusCode).toBe(500);
    expectEnvelope(res.body, 'contract_violation');
    expect(res.body).not.toContain('many');
  });

  it('accepts unicode in a valid body', async () => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'Zoë 🚰 配管' } });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ name: 'Zoë 🚰 配管' });
  });
});

describe('correlation id', () => {
  it('echoes a well-formed X-Correlation-Id and puts it in the envelope and the log lines', async () => {
    const id = 'req-0123456789abcdef';
    const res = await app.inject({ method: 'GET', url: '/missing', headers: { 'x-correlation-id': id } });
    expect(res.headers['x-correlation-id']).toBe(id);
    expect(JSON.parse(res.body).error.correlation_id).toBe(id);
    expect(logLines().some((line) => line.includes(`"correlation_id":"${id}"`))).toBe(true);
  });

  it('replaces a malformed one with a generated id', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-correlation-id': 'bad id <script>' },
    });
    expect(res.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('ops routes', () => {
  it('serves healthz, readyz, buildinfo, metrics and the OpenAPI document', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ database: true, migrations: true, workers: true });
    expect((await app.inject({ method: 'GET', url: '/buildinfo' })).json()).toMatchObject({
      version: 'test',
    });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('nmc_http_request_duration_seconds');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/buildinfo']),
    );
    expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });

  it('answers readyz 503 when the database is unreachable', async () => {
    const deadPool = createPool('postgres://nobody:nothing@127.0.0.1:1/none', { max: 1 });
    const { app: unready } = await buildTestApp(deadPool);
    const res = await unready.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'unavailable',
      checks: { database: false, migrations: false, workers: true },
    });
    await unready.close();
    await deadPool.end();
  });
});
