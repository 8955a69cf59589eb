import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope, EventName } from '../../../src/domain/event-catalog.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { reportSubscriber } from '../../../src/runtime/reports/report-subscriber.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// The report endpoints over events with times the test chooses, in the demo tenant's zone
// (America/Los_Angeles), across the spring-forward day 2026-03-08 (23 hours): which local day each
// event lands on, week grouping, conversion, first-response percentiles, CSV, and bad ranges.

let t: TestSystem;
let owner: string;
let tenantId: string;
beforeAll(async () => {
  t = await startTestSystem();
  owner = await tokenFor(t.system, { subject: 'report_owner', role: 'OWNER', org: DEMO.auth_org_id });
  const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    DEMO.slug,
  ]);
  tenantId = rows[0]?.id as string;
});
afterAll(async () => {
  await t?.stop();
});

function envelope(name: EventName, at: string, payload: Record<string, unknown>): EventEnvelope {
  return {
    event_id: randomUUID(),
    event_name: name,
    schema_version: 1,
    tenant_id: tenantId,
    occurred_at: at,
    correlation_id: randomUUID(),
    causation_id: null,
    payload,
  };
}

/** A missed call at `at`, its first text accepted `latencyMs` later, and optionally a reply. */
function conversation(at: string, latencyMs: number, replied = false): EventEnvelope[] {
  const conversation_id = randomUUID();
  const later = new Date(Date.parse(at) + latencyMs).toISOString();
  return [
    envelope('nmc.conversation.ConversationStarted', at, { conversation_id }),
    envelope('nmc.conversation.MissedCallRecorded', at, { conversation_id, call_sid: 'CA1' }),
    envelope('nmc.messaging.MessageAccepted', later, {
      conversation_id,
      message_id: randomUUID(),
      purpose: 'greeting',
    }),
    ...(replied
      ? [envelope('nmc.conversation.MessageReceived', later, { conversation_id, message_id: randomUUID() })]
      : []),
  ];
}

const get = (url: string, token = owner) => call(appOf(t.system), { method: 'GET', url, token });

describe('reports API', () => {
  it('counts each event on its local day across DST, groups weeks, and gives percentiles and CSV', async () => {
    const subscriber = reportSubscriber(t.system.db);
    const appointment_id = randomUUID();
    const events = [
      // 2026-03-07 23:30 local (PST) = 03-08 07:30Z: still the 7th.
      ...conversation('2026-03-08T07:30:00Z', 900, true),
      // 2026-03-08 00:30 PST, and 23:30 PDT (= 03-09 06:30Z): both the 8th, a 23-hour day.
      ...conversation('2026-03-08T08:30:00Z', 1_200, true),
      ...conversation('2026-03-09T06:30:00Z', 4_000),
      // 2026-03-09 00:30 PDT: the 9th (Monday: a new ISO week).
      ...conversation('2026-03-09T07:30:00Z', 9_000),
      envelope('nmc.scheduling.AppointmentBooked', '2026-03-09T07:40:00Z', {
        appointment_id,
        resource_id: randomUUID(),
        service_id: randomUUID(),
        conversation_id: null,
        start: '2026-03-10T17:00:00Z',
        end: '2026-03-10T18:00:00Z',
        price_cents: 14_900,
      }),
      // Two reminders for it (the second also delivered twice): one appointment reminded, on the 9th.
      ...['2026-03-09T17:00:00Z', '2026-03-10T15:00:00Z', '2026-03-10T15:00:00Z'].map((at, i) =>
        envelope('nmc.conversation.ReminderSent', at, {
          conversation_id: randomUUID(),
          appointment_id,
          offset_minutes: i === 0 ? 1440 : 120,
        }),
      ),
    ];
    for (const event of events) await subscriber.handle(event);

    const daily = await get('/api/v1/reports/funnel?from=2026-03-07&to=2026-03-09');
    expect(daily.status, daily.raw).toBe(200);
    const body = daily.body as {
      time_zone: string;
      items: { period_start: string; missed: number; texted: number; replied: number; booked: number }[];
      total: {
        missed: number;
        booked: number;
        reminded: number;
        revenue_booked: { amount_cents: number };
        conversion: unknown;
      };
    };
    expect(body.time_zone).toBe('America/Los_Angeles');
    expect(body.items.map((i) => [i.period_start, i.missed, i.texted, i.replied, i.booked])).toEqual([
      ['2026-03-07', 1, 1, 1, 0],
      ['2026-03-08', 2, 2, 1, 0],
      ['2026-03-09', 1, 1, 0, 1],
    ]);
    expect(body.total.revenue_booked.amount_cents).toBe(14_900);
    expect(body.total.reminded).toBe(1);
    expect(body.total.conversion).toMatchObject({ texted: 1, replied: 0.5, quoted: 0 });

    const weekly = await get('/api/v1/reports/funnel?from=2026-03-02&to=2026-03-15&group=week');
    expect(
      (weekly.body as { items: { period_start: string; period_end: string; missed: number }[] }).items,
    ).toMatchObject([
      { period_start: '2026-03-02', period_end: '2026-03-08', missed: 3 },
      { period_start: '2026-03-09', period_end: '2026-03-15', missed: 1 },
    ]);

    const latency = await get('/api/v1/reports/first-response?from=2026-03-07&to=2026-03-09');
    expect(latency.status, latency.raw).toBe(200);
    expect(latency.body).toMatchObject({
      objective_ms: 5_000,
      total: { responses: 4, p50_ms: 1_500, p95_ms: 10_000, within_objective: 3, meets_objective: false },
      items: [
        { period_start: '2026-03-07', responses: 1, p95_ms: 1_000, meets_objective: true },
        { period_start: '2026-03-08', responses: 2, p95_ms: 4_000 },
        { period_start: '2026-03-09', responses: 1, p95_ms: 10_000 },
      ],
    });

    const csv = await get('/api/v1/reports/funnel.csv?from=2026-03-07&to=2026-03-09');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.raw.trim().split('\r\n');
    expect(lines[0]).toMatch(/^period_start,period_end,missed,texted,replied,quoted,held,booked,reminded,/);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      '2026-03-07,2026-03-07,1',
      '2026-03-08,2026-03-08,2',
      '2026-03-09,2026-03-09,1',
    ]);
    const latencyCsv = await get('/api/v1/reports/first-response.csv?from=2026-03-08&to=2026-03-08');
    expect(latencyCsv.raw).toBe(
      'period_start,period_end,responses,p50_ms,p95_ms,p99_ms,within_objective,meets_objective\r\n' +
        '2026-03-08,2026-03-08,2,1500,4000,4000,2,true\r\n',
    );

    // The JSON paths answer the same CSV when the Accept header prefers it, and JSON otherwise.
    const asCsv = (url: string, accept: string) =>
      call(appOf(t.system), { method: 'GET', url, token: owner, headers: { accept } });
    const negotiated = await asCsv('/api/v1/reports/funnel?from=2026-03-07&to=2026-03-09', 'text/csv');
    expect(negotiated.headers['content-type']).toMatch(/^text\/csv/);
    expect(negotiated.raw).toBe(csv.raw);
    const negotiatedLatency = await asCsv(
      '/api/v1/reports/first-response?from=2026-03-08&to=2026-03-08',
      'application/json;q=0.5, text/csv',
    );
    expect(negotiatedLatency.raw).toBe(latencyCsv.raw);
    for (const accept of ['*/*', 'application/json, text/csv', 'text/csv;q=0, */*', 'text/*;q=0.1, */*']) {
      const json = await asCsv('/api/v1/reports/funnel?from=2026-03-07&to=2026-03-09', accept);
      expect(json.headers['content-type'], accept).toMatch(/^application\/json/);
      expect(json.body).toEqual(daily.body);
    }
    const document = (await get('/openapi.json')).body as {
      paths: Record<string, { get: { responses: { 200: { content: Record<string, unknown> } } } }>;
    };
    for (const path of ['/api/v1/reports/funnel', '/api/v1/reports/first-response']) {
      expect(Object.keys(document.paths[path]?.get.responses[200].content ?? {}), path).toEqual([
        'application/json',
        'text/csv',
      ]);
    }
  });

  it('refuses a range that ends before it starts or is longer than a year (400), and TECH (403)', async () => {
    const backwards = await get('/api/v1/reports/funnel?from=2026-03-09&to=2026-03-01');
    expect(backwards.status).toBe(400);
    expect(errorOf(backwards).code).toBe('validation_failed');
    expect((await get('/api/v1/reports/first-response?from=2025-01-01&to=2026-03-01')).status).toBe(400);
    expect((await get('/api/v1/reports/funnel?from=2026-02-30')).status).toBe(400);
    const tech = await tokenFor(t.system, { subject: 'report_tech', role: 'TECH', org: DEMO.auth_org_id });
    const refused = await get('/api/v1/reports/funnel', tech);
    expect(refused.status).toBe(403);
  });
});
