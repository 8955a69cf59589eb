import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/domain/event-catalog.ts';
import { upsertTenantBySlug } from '../../../src/persistence/repositories/tenants.ts';
import { type NewEvent, writeOutboxEvents } from '../../../src/runtime/outbox.ts';
import { createOutboxDispatcher, type Subscriber } from '../../../src/runtime/outbox-dispatcher.ts';
import { reportSubscriber } from '../../../src/runtime/reports/report-subscriber.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { captureLogger } from '../../helpers/logs.ts';
import { reportTables } from '../../helpers/report-tables.ts';

// The reports subscriber's batch: one transaction whose statements do not grow with the batch,
// landing on exactly the read models that delivering the same events one by one gives (several
// events of one conversation and of one appointment chain, two tenants in different time zones);
// a redelivered batch counts once; and through the dispatcher, a failing event of a batch is
// retried alone while the others are delivered.

let database: TestDatabase;
const EAST = randomUUID();
const WEST = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase();
  for (const [id, slug, zone] of [
    [EAST, 'batch-east', 'America/New_York'],
    [WEST, 'batch-west', 'Pacific/Honolulu'],
  ] as const) {
    await upsertTenantBySlug(database.pool, {
      id,
      slug,
      name: slug,
      time_zone: zone,
      auth_org_id: null,
      twilio_number: null,
      forwarding_phone: null,
    });
  }
});
afterAll(async () => {
  await database?.drop();
});
beforeEach(async () => {
  await database.pool.query(
    'TRUNCATE rep_events, rep_conversations, rep_appointments, rep_funnel_daily, rep_first_response_daily, outbox_events, outbox_consumptions, outbox_dead_letters',
  );
});

type Draft = { tenantId: string; name: string; at: string; payload: Record<string, unknown> };

/**
 * A conversation's life around local midnight (so its steps fall on two local days in one zone and
 * one in the other), and when `booked`, its appointment booked, moved, reminded and completed.
 */
function conversationEvents(tenantId: string, startMs: number, booked: boolean): Draft[] {
  const conversation = randomUUID();
  const at = (minutes: number) => new Date(startMs + minutes * 60_000).toISOString();
  const drafts: Draft[] = [
    { tenantId, name: 'nmc.conversation.ConversationStarted', at: at(0), payload: {} },
    { tenantId, name: 'nmc.conversation.MissedCallRecorded', at: at(0), payload: { call_sid: 'CA1' } },
    {
      tenantId,
      name: 'nmc.messaging.MessageAccepted',
      at: at(1),
      payload: { message_id: randomUUID(), purpose: 'first_text' },
    },
    { tenantId, name: 'nmc.conversation.MessageReceived', at: at(20), payload: { message_id: randomUUID() } },
    // A later acceptance of another text: the earliest counts.
    {
      tenantId,
      name: 'nmc.messaging.MessageAccepted',
      at: at(21),
      payload: { message_id: randomUUID(), purpose: 'reply' },
    },
    {
      tenantId,
      name: 'nmc.conversation.HumanTookOver',
      at: at(90),
      payload: { operator_id: 'op', previous: null },
    },
  ].map((d) => ({ ...d, payload: { conversation_id: conversation, ...d.payload } }));
  if (!booked) return drafts;
  const first = randomUUID();
  const moved = randomUUID();
  const facts = (id: string, start: number, price: number) => ({
    appointment_id: id,
    resource_id: randomUUID(),
    service_id: '00000000-0000-4000-8000-000000000001',
    conversation_id: conversation,
    start: at(start),
    end: at(start + 60),
    price_cents: price,
  });
  drafts.push(
    { tenantId, name: 'nmc.scheduling.AppointmentBooked', at: at(30), payload: facts(first, 2_000, 14_900) },
    {
      tenantId,
      name: 'nmc.scheduling.AppointmentRescheduled',
      at: at(40),
      payload: {
        ...facts(moved, 3_000, 15_900),
        previous_id: first,
        previous_resource_id: randomUUID(),
        previous_start: at(2_000),
        previous_end: at(2_060),
      },
    },
    {
      tenantId,
      name: 'nmc.conversation.ReminderSent',
      at: at(2_900),
      payload: { conversation_id: conversation, appointment_id: moved, offset_minutes: 60 },
    },
    {
      tenantId,
      name: 'nmc.scheduling.AppointmentOutcomeMarked',
      at: at(3_100),
      payload: { ...facts(moved, 3_000, 15_900), outcome: 'no_show' },
    },
    // Corrected later: the latest outcome wins.
    {
      tenantId,
      name: 'nmc.scheduling.AppointmentOutcomeMarked',
      at: at(3_200),
      payload: { ...facts(moved, 3_000, 15_900), outcome: 'completed' },
    },
  );
  return drafts;
}

/** `count` conversations over both tenants, every third one booked, starting 30 min before UTC midnight. */
function workload(count: number): Draft[] {
  const drafts: Draft[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = Date.parse('2026-11-03T04:30:00.000Z') + i * 7 * 60_000;
    drafts.push(...conversationEvents(i % 2 === 0 ? EAST : WEST, start, i % 3 === 0));
  }
  return drafts;
}

function envelopes(drafts: Draft[]): EventEnvelope[] {
  return drafts.map((d) => ({
    event_id: randomUUID(),
    event_name: d.name as EventEnvelope['event_name'],
    schema_version: 1,
    tenant_id: d.tenantId,
    occurred_at: d.at,
    correlation_id: `corr-${randomUUID()}`,
    causation_id: null,
    payload: d.payload,
  }));
}

/** Statements sent to Postgres (by any client of this process) while `fn` runs. */
async function countStatements(fn: () => Promise<void>): Promise<number> {
  const original = pg.Client.prototype.query;
  let count = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    count += 1;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return count;
}

async function oneByOne(events: EventEnvelope[]): Promise<void> {
  const subscriber = reportSubscriber(database.pool);
  for (const event of events) await subscriber.handle(event);
}

async function asBatch(events: EventEnvelope[]): Promise<void> {
  const handleBatch = reportSubscriber(database.pool).handleBatch;
  if (!handleBatch) throw new Error('the reports subscriber has no batch entry point');
  await handleBatch(events);
}

async function clearReports(): Promise<void> {
  await database.pool.query(
    'TRUNCATE rep_events, rep_conversations, rep_appointments, rep_funnel_daily, rep_first_response_daily',
  );
}

describe('reports subscriber: a batch', () => {
  it('lands on the read models of one-by-one delivery, across conversations, appointment chains and time zones', async () => {
    const events = envelopes(workload(12));
    await oneByOne(events);
    const expected = await reportTables(database.pool);

    // Not vacuous: both tenants, several local days, the chains' moves, reminders and outcomes.
    const totals = (tenantId: string) =>
      expected.funnel
        .filter((row) => row.tenant_id === tenantId)
        .reduce<Record<string, number>>((sum, row) => {
          for (const [key, value] of Object.entries(row)) {
            if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value;
          }
          return sum;
        }, {});
    expect(totals(EAST)).toMatchObject({
      missed: 6,
      texted: 6,
      replied: 6,
      taken_over: 6,
      booked: 2,
      reminded: 2,
    });
    expect(totals(WEST)).toMatchObject({ missed: 6, booked: 2, completed: 2, no_show: 0 });
    // A chain is booked once, at the price of its booking.
    expect(totals(EAST).revenue_booked_cents).toBe(2 * 14_900);
    expect(new Set(expected.funnel.map((row) => String(row.day))).size).toBeGreaterThan(2);
    expect(expected.appointments.filter((row) => row.superseded_at !== null)).toHaveLength(4);

    await clearReports();
    await asBatch(events);
    expect(await reportTables(database.pool)).toEqual(expected);

    // The same events in batches of 7, which split conversations and chains across batches.
    await clearReports();
    for (let i = 0; i < events.length; i += 7) await asBatch(events.slice(i, i + 7));
    expect(await reportTables(database.pool)).toEqual(expected);
  });

  it('counts a redelivered batch once, and a batch mixing redelivered and new events counts only the new', async () => {
    const events = envelopes(workload(6));
    await oneByOne(events);
    const expected = await reportTables(database.pool);

    await clearReports();
    await asBatch(events);
    // The merges are idempotent too, so what shows the journal at work is that a redelivered
    // batch folds nothing: BEGIN, the shared lock, the journal insert, COMMIT.
    expect(await countStatements(() => asBatch(events))).toBe(4);
    expect(await reportTables(database.pool)).toEqual(expected);

    await clearReports();
    const half = Math.floor(events.length / 2);
    await asBatch(events.slice(0, half));
    await asBatch([...events].reverse());
    await asBatch([events[0] as EventEnvelope, events[0] as EventEnvelope]);
    expect(await reportTables(database.pool)).toEqual(expected);
  });
});

describe('reports subscriber: concurrent batches', () => {
  it('two batches touching the same rows in opposite orders both commit (rows are locked in key order)', async () => {
    const conversations = Array.from({ length: 200 }, () => randomUUID());
    const step = (name: string, at: string, extra: Record<string, unknown>) =>
      envelopes(
        conversations.map((conversation_id) => ({
          tenantId: EAST,
          name,
          at,
          payload: { conversation_id, ...extra },
        })),
      );
    await asBatch(step('nmc.conversation.ConversationStarted', '2026-11-03T15:00:00.000Z', {}));

    // A third transaction holds one row in the middle, so both batches stop there holding what they
    // locked before it: locked in their events' orders, they would then wait for each other.
    const holder = await database.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        'SELECT 1 FROM rep_conversations WHERE tenant_id = $1 AND conversation_id = $2 FOR UPDATE',
        [EAST, conversations[100]],
      );
      const missed = step('nmc.conversation.MissedCallRecorded', '2026-11-03T15:01:00.000Z', {
        call_sid: 'CA3',
      });
      const texted = step('nmc.messaging.MessageAccepted', '2026-11-03T15:02:00.000Z', {
        message_id: randomUUID(),
        purpose: 'first_text',
      });
      const both = Promise.allSettled([asBatch(missed), asBatch([...texted].reverse())]);
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await database.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if ((rows[0]?.n ?? 0) >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.query('COMMIT');
      expect((await both).map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual([
        'ok',
        'ok',
      ]);
    } finally {
      holder.release();
    }
    const { rows } = await database.pool.query<{ missed: number; texted: number }>(
      'SELECT sum(missed)::int AS missed, sum(texted)::int AS texted FROM rep_funnel_daily WHERE tenant_id = $1',
      [EAST],
    );
    expect(rows[0]).toEqual({ missed: 200, texted: 200 });
  });
});

describe('reports subscriber: through the dispatcher', () => {
  it('a failing event of a batch fails alone: the others are delivered, it is retried by itself', async () => {
    // A tenant whose time zone cannot be read: its events throw in the fold (a RangeError).
    const broken = randomUUID();
    await upsertTenantBySlug(database.pool, {
      id: broken,
      slug: `batch-broken-${broken}`,
      name: 'broken',
      time_zone: 'Not/AZone',
      auth_org_id: null,
      twilio_number: null,
      forwarding_phone: null,
    });
    const drafts = workload(3);
    const poison: Draft = {
      tenantId: broken,
      name: 'nmc.conversation.MissedCallRecorded',
      at: '2026-11-03T04:40:00.000Z',
      payload: { conversation_id: randomUUID(), call_sid: 'CA2' },
    };
    drafts.splice(4, 0, poison);
    const toNew = (d: Draft): NewEvent => ({
      tenantId: d.tenantId,
      name: d.name,
      payload: d.payload,
      occurredAt: d.at,
      correlationId: `corr-${randomUUID()}`,
      causationId: null,
    });
    const written = await writeOutboxEvents(database.pool, drafts.map(toNew));
    const poisonId = written[4]?.event_id as string;

    const handled: string[][] = [];
    const reports = reportSubscriber(database.pool);
    const watched: Subscriber = {
      ...reports,
      handle: async (event) => {
        handled.push([event.event_id]);
        await reports.handle(event);
      },
    };
    const { logger } = captureLogger();
    const dispatcher = createOutboxDispatcher({
      db: database.pool,
      connectionString: database.url,
      subscribers: [watched],
      batchSize: 50,
      logger,
      random: () => 0,
    });
    expect(await dispatcher.drainOnce()).toBe(drafts.length);

    // The batch failed as a whole, then every event went alone; only the poison failed.
    expect(handled).toHaveLength(drafts.length);
    const { rows: outbox } = await database.pool.query<{
      event_id: string;
      dispatched: boolean;
      attempts: number;
    }>('SELECT event_id, dispatched_at IS NOT NULL AS dispatched, attempts FROM outbox_events');
    expect(outbox.filter((r) => !r.dispatched).map((r) => r.event_id)).toEqual([poisonId]);
    expect(outbox.find((r) => r.event_id === poisonId)?.attempts).toBe(1);
    const { rows: consumed } = await database.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox_consumptions WHERE subscriber = 'reports'",
    );
    expect(consumed[0]?.n).toBe(drafts.length - 1);

    // The others counted exactly as delivered one by one without the poison.
    const delivered = await reportTables(database.pool);
    await clearReports();
    await oneByOne(written.filter((e) => e.event_id !== poisonId));
    expect(delivered).toEqual(await reportTables(database.pool));

    // Repaired, the poison is retried by itself and counted.
    await database.pool.query("UPDATE id_tenants SET time_zone = 'Europe/Paris' WHERE id = $1", [broken]);
    await database.pool.query('UPDATE outbox_events SET next_attempt_at = now() WHERE event_id = $1', [
      poisonId,
    ]);
    handled.length = 0;
    expect(await dispatcher.drainOnce()).toBe(1);
    expect(handled).toHaveLength(0);
    const { rows: missed } = await database.pool.query<{ missed: number }>(
      'SELECT sum(missed)::int AS missed FROM rep_funnel_daily WHERE tenant_id = $1',
      [broken],
    );
    expect(missed[0]?.missed).toBe(1);
  });
});

describe('reports subscriber: statements', () => {
  it('a batch runs a fixed number of statements, whatever its size', async () => {
    const small = envelopes(workload(3));
    const large = envelopes(workload(30));
    const forSmall = await countStatements(() => asBatch(small));
    const forLarge = await countStatements(() => asBatch(large));
    expect(forLarge).toBe(forSmall);
    // BEGIN, the shared lock, the journal, the time zones, two fact-row locks, the save, the days, COMMIT.
    expect(forLarge).toBeLessThanOrEqual(9);

    const again = envelopes(workload(30));
    await clearReports();
    const eventByEvent = await countStatements(() => oneByOne(again));
    console.log(
      `reports statements per event: one by one ${(eventByEvent / again.length).toFixed(2)}, ` +
        `in a batch of ${large.length} ${(forLarge / large.length).toFixed(2)} (${forLarge} per batch)`,
    );
  });
});
