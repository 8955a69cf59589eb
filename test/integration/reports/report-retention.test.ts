import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope, EventName } from '../../../src/domain/event-catalog.ts';
import { POLICY_DEFAULTS } from '../../../src/domain/policy.ts';
import type { Pool } from '../../../src/persistence/db.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { rebuildReports } from '../../../src/runtime/reports/rebuild-reports.ts';
import { reportSubscriber } from '../../../src/runtime/reports/report-subscriber.ts';
import { runRetention } from '../../../src/runtime/retention.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { seedTenant } from '../../helpers/engine.ts';

// The reports' retention (`retention.reports_days`, 762 days by default) with an injected clock: a
// conversation wholly past the period goes with its journal events and its days; an appointment
// booked before the cutoff but due after it stays whole (its booking event too), so a rebuild after
// the purge reproduces every day the purge kept.

const DAY_MS = 86_400_000;
const NOW = new Date('2035-03-01T12:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

let database: TestDatabase;
let pool: Pool;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.pool;
  tenant = await seedTenant(pool);
});

afterAll(async () => {
  await database?.drop();
});

function envelope(name: EventName, at: string, payload: Record<string, unknown>): EventEnvelope {
  return {
    event_id: randomUUID(),
    event_name: name,
    schema_version: 1,
    tenant_id: tenant.id,
    occurred_at: at,
    correlation_id: randomUUID(),
    causation_id: null,
    payload,
  };
}

function missedCall(at: string): { id: string; events: EventEnvelope[] } {
  const conversation_id = randomUUID();
  const later = new Date(Date.parse(at) + 1_500).toISOString();
  return {
    id: conversation_id,
    events: [
      envelope('nmc.conversation.ConversationStarted', at, { conversation_id }),
      envelope('nmc.conversation.MissedCallRecorded', at, { conversation_id, call_sid: 'CA1' }),
      envelope('nmc.messaging.MessageAccepted', later, {
        conversation_id,
        message_id: randomUUID(),
        purpose: 'greeting',
      }),
    ],
  };
}

function booking(bookedAt: string, start: string): { id: string; events: EventEnvelope[] } {
  const appointment_id = randomUUID();
  const facts = {
    appointment_id,
    resource_id: randomUUID(),
    service_id: randomUUID(),
    conversation_id: null,
    start,
    end: new Date(Date.parse(start) + 3_600_000).toISOString(),
    price_cents: 14_900,
  };
  return {
    id: appointment_id,
    events: [
      envelope('nmc.scheduling.AppointmentBooked', bookedAt, facts),
      envelope('nmc.scheduling.AppointmentOutcomeMarked', start, { ...facts, outcome: 'completed' }),
    ],
  };
}

const ids = async (sql: string) => (await pool.query<{ id: string }>(sql)).rows.map((r) => r.id).sort();

async function days(): Promise<Record<string, unknown>[]> {
  const funnel = await pool.query('SELECT day::text AS local_day, * FROM rep_funnel_daily ORDER BY day');
  const response = await pool.query(
    'SELECT day::text AS local_day, * FROM rep_first_response_daily ORDER BY day, bucket_ms',
  );
  return [...funnel.rows, ...response.rows];
}

describe('reports retention', () => {
  it('removes what is wholly past the period, keeps every fact that is not, and a rebuild agrees', async () => {
    const period = POLICY_DEFAULTS['retention.reports_days'];
    const old = missedCall(daysAgo(period + 30));
    const recent = missedCall(daysAgo(10));
    const gone = booking(daysAgo(period + 20), daysAgo(period + 15));
    const straddling = booking(daysAgo(period + 5), daysAgo(period - 5));
    const subscriber = reportSubscriber(pool);
    for (const e of [old, recent, gone, straddling].flatMap((x) => x.events)) await subscriber.handle(e);

    const removed = await runRetention(pool, POLICY_DEFAULTS, NOW);
    expect(removed).toMatchObject({
      report_conversations: 1,
      report_appointments: 1,
      report_events: old.events.length + gone.events.length,
    });
    expect(await ids('SELECT conversation_id AS id FROM rep_conversations')).toEqual([recent.id]);
    expect(await ids('SELECT appointment_id AS id FROM rep_appointments')).toEqual([straddling.id]);
    expect(await ids('SELECT event_id AS id FROM rep_events')).toEqual(
      [...recent.events, ...straddling.events].map((e) => e.event_id).sort(),
    );
    // The days kept: the straddling appointment's completion and the recent call, not its booking day.
    const kept = await days();
    expect(kept.map((d) => d.local_day)).toEqual([
      straddling.events[1]?.occurred_at.slice(0, 10),
      recent.events[0]?.occurred_at.slice(0, 10),
      recent.events[0]?.occurred_at.slice(0, 10),
    ]);

    // A rebuild from the retained journal reproduces them (and the next run drops the partial old
    // day it recreates from the straddling appointment's booking).
    await rebuildReports(pool);
    expect(await runRetention(pool, POLICY_DEFAULTS, NOW)).toMatchObject({
      report_conversations: 0,
      report_appointments: 0,
      report_events: 0,
      report_funnel_days: 1,
    });
    expect(await days()).toEqual(kept);
  });
});
