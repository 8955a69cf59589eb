import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventEnvelope } from '../../src/domain/event-catalog.ts';
import { isQuietAt } from '../../src/domain/reminder-schedule.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createDispatch } from '../../src/runtime/dispatch.ts';
import { sendReminder } from '../../src/runtime/reminders/send-reminder.ts';
import { rebuildReports } from '../../src/runtime/reports/rebuild-reports.ts';
import { reportSubscriber } from '../../src/runtime/reports/report-subscriber.ts';
import { completePastAppointments } from '../../src/runtime/scheduling/complete-past-appointments.ts';
import { appOf, call, tokenFor } from '../helpers/operator-api.ts';
import { outboxSettled, reportTables } from '../helpers/report-tables.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// A simulated month for the demo tenant (America/Los_Angeles), March 2027 with its spring-forward
// night (2027-03-14): callers go through the real webhooks and the real dialogue (sandbox Twilio),
// the outbox feeds the reports, operators cancel, mark outcomes and take over through the API, one
// customer answers a reminder with C, and the sweep completes the rest. The clock is the test's:
// Date is faked (only Date: timers, sockets and Postgres run for real) and moves in real time from
// each instant the test sets. Seven callers every day of the month, side by side, and one either
// side of midnight on the month's ends and around the spring-forward night: 227 callers, each
// following one of the scripts below, so every step of the funnel and every day boundary is
// exercised (about 35 s on two cores).
//
// Then: the funnel endpoint equals counts computed independently from the raw tables; a rebuild
// equals the live tables; the same events again, reversed and duplicated, change nothing; the
// reminders scheduled across the DST change are at the right local times and never in quiet hours.

const TZ = 'America/Los_Angeles';
const MONTH_DAYS = 31;
/** Every day: callers at this local time, side by side (one fake clock moves for all of them). */
const DAY_TIME = '10:00';
const CALLERS_PER_DAY = 7;
/** Days with a caller either side of midnight too: the month's ends and the spring-forward night. */
const EDGE_DAYS = ['2027-03-01', '2027-03-13', '2027-03-14', '2027-03-15', '2027-03-31'];
const EDGE_TIMES = ['00:30', '23:30'];
const TOTAL_CALLS = MONTH_DAYS * CALLERS_PER_DAY + EDGE_DAYS.length * EDGE_TIMES.length;

type Script = 'silent' | 'stop' | 'quoted' | 'held' | 'booked';
const SCRIPTS: Script[] = [
  'booked',
  'silent',
  'quoted',
  'booked',
  'held',
  'booked',
  'stop',
  'booked',
  'quoted',
];

let t: TestSystem;
let tenantId: string;

function localInstant(date: string, time: string): number {
  return DateTime.fromISO(`${date}T${time}`, { zone: TZ }).toMillis();
}

const localDate = (ms: number) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);

beforeAll(async () => {
  t = await startTestSystem();
  const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    DEMO.slug,
  ]);
  tenantId = rows[0]?.id as string;
});
afterAll(async () => {
  vi.useRealTimers();
  await t?.stop();
});

const texts = (caller: string) => t.sandbox.messages().filter((m) => m.to === caller);
async function replyAndWait(caller: string, body: string): Promise<string> {
  const before = texts(caller).length;
  await t.phone.sms({ from: caller, to: DEMO.twilio_number, body });
  const after = await waitFor(async () => (texts(caller).length > before ? texts(caller) : null), 10_000);
  return after.at(-1)?.body ?? '';
}

/** Every text so far accepted by the provider: the clock may move on (the acceptance is timed by it). */
async function allAccepted(): Promise<void> {
  await waitFor(async () => {
    const { rows } = await t.system.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM conv_messages WHERE direction = 'out' AND provider_sid IS NULL AND status <> 'failed'",
    );
    return rows[0]?.n === 0;
  }, 15_000);
}

async function runCaller(caller: string, script: Script): Promise<void> {
  await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
  await waitFor(async () => texts(caller).length >= 1, 10_000);
  if (script === 'silent') return;
  if (script === 'stop') {
    await replyAndWait(caller, 'STOP');
    return;
  }
  await replyAndWait(caller, 'my drain is clogged');
  if (script === 'quoted') return;
  // The third time offered: spread over the coming days, so reminders are still ahead.
  await replyAndWait(caller, '3');
  if (script === 'held') return;
  await replyAndWait(caller, 'yes');
}

/**
 * A customer answers a reminder with C: the first reminder job still ahead (of a live appointment)
 * runs at the instant it was scheduled for, then the customer replies. The clock only moves forward.
 * False when no reminder is ahead yet.
 */
async function remindAndCancel(): Promise<boolean> {
  // The reminders of today's bookings are scheduled from their events: wait for the outbox.
  await outboxSettled(t.system.db, 30_000);
  const { rows: jobs } = await t.system.db.query<{
    data: { tenant_id: string; appointment_id: string; start: string; offset_minutes: number };
    start_after: Date;
    caller: string;
  }>(
    `SELECT j.data, j.start_after, c.caller FROM pgboss.job j
     JOIN sched_reservations r ON r.id = (j.data->>'appointment_id')::uuid AND r.status = 'live'
     JOIN conv_conversations c ON c.tenant_id = r.tenant_id AND c.id = r.conversation_id
     WHERE j.name = 'appointment-reminder' AND j.start_after > $1::timestamptz
     ORDER BY j.start_after LIMIT 1`,
    [new Date().toISOString()],
  );
  const reminded = jobs[0];
  if (!reminded) return false;
  const dispatch = createDispatch({ db: t.system.db, boss: t.system.boss, readGates: readGatesFromBilling });
  vi.setSystemTime(reminded.start_after.getTime());
  expect(await sendReminder({ db: t.system.db, dispatch }, reminded.data)).toBe('sent');
  await waitFor(async () => texts(reminded.caller).some((m) => m.body.startsWith('Reminder from')), 10_000);
  expect(await replyAndWait(reminded.caller, 'C')).toContain('is cancelled');
  await allAccepted();
  const { rows: freed } = await t.system.db.query('SELECT status FROM sched_reservations WHERE id = $1', [
    reminded.data.appointment_id,
  ]);
  expect(freed).toEqual([{ status: 'cancelled' }]);
  return true;
}

/**
 * An operator books a time through the API (the spring-forward Sunday books the Monday after, so
 * a 24 h reminder falls on the 23-hour day).
 */
async function bookByOperator(start: number): Promise<void> {
  const token = await tokenFor(t.system, { subject: 'month_owner', role: 'OWNER', org: DEMO.auth_org_id });
  const { rows } = await t.system.db.query<{ service_id: string; resource_id: string }>(
    `SELECT s.id AS service_id, r.id AS resource_id FROM catalog_services s, sched_resources r
     WHERE s.tenant_id = $1 AND r.tenant_id = $1 AND s.name = 'Drain cleaning' LIMIT 1`,
    [tenantId],
  );
  const ids = rows[0];
  if (!ids) throw new Error('no demo service');
  const hold = await call(appOf(t.system), {
    method: 'POST',
    url: '/api/v1/holds',
    token,
    body: { ...ids, start: new Date(start).toISOString() },
  });
  expect(hold.status, hold.raw).toBe(201);
  const booked = await call(appOf(t.system), {
    method: 'POST',
    url: `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`,
    token,
  });
  expect(booked.status, booked.raw).toBe(201);
}

describe('a simulated month', () => {
  it('the funnel equals the raw tables, a rebuild equals the live tables, replays change nothing', async () => {
    const started = performance.now();
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });

    let n = 0;
    let reminderAnswered = false;
    const nextCaller = () => {
      const caller = `+1310555${String(1000 + n).padStart(4, '0')}`;
      const script = SCRIPTS[n % SCRIPTS.length] as Script;
      n += 1;
      return runCaller(caller, script).then(allAccepted);
    };
    for (let day = 1; day <= MONTH_DAYS; day++) {
      const date = `2027-03-${String(day).padStart(2, '0')}`;
      const edge = EDGE_DAYS.includes(date);
      if (edge) {
        vi.setSystemTime(localInstant(date, EDGE_TIMES[0] as string));
        await nextCaller();
      }
      vi.setSystemTime(localInstant(date, DAY_TIME));
      await Promise.all(Array.from({ length: CALLERS_PER_DAY }, nextCaller));
      if (edge) {
        vi.setSystemTime(localInstant(date, EDGE_TIMES[1] as string));
        await nextCaller();
      }
      if (date === '2027-03-14') await bookByOperator(localInstant('2027-03-15', '15:00'));
      if (!reminderAnswered && day >= 10) reminderAnswered = await remindAndCancel();
    }
    expect(reminderAnswered).toBe(true);
    await outboxSettled(t.system.db, 30_000);
    const simulated = performance.now();

    // Operators, on the last evening: every 4th appointment cancelled, and of the rest that are
    // past, every 3rd marked a no-show and every 3rd completed; a few conversations taken over.
    vi.setSystemTime(localInstant('2027-03-31', '20:00'));
    const token = await tokenFor(t.system, { subject: 'month_owner', role: 'OWNER', org: DEMO.auth_org_id });
    const app = appOf(t.system);
    const { rows: appointments } = await t.system.db.query<{ id: string; start: Date }>(
      `SELECT id, lower(timeslot) AS start FROM sched_reservations
       WHERE kind = 'appointment' AND status = 'live' ORDER BY lower(timeslot), id`,
    );
    for (const [i, a] of appointments.entries()) {
      const past = a.start.getTime() + 2 * 3_600_000 < Date.now();
      if (i % 4 === 0 && !past) {
        const res = await call(app, {
          method: 'POST',
          url: `/api/v1/appointments/${a.id}/cancel`,
          token,
          body: {},
        });
        expect(res.status, res.raw).toBe(200);
      } else if (past && i % 3 !== 2) {
        const outcome = i % 3 === 0 ? 'no_show' : 'completed';
        const res = await call(app, {
          method: 'POST',
          url: `/api/v1/appointments/${a.id}/outcome`,
          token,
          body: { outcome },
        });
        expect(res.status, res.raw).toBe(200);
      }
    }
    const { rows: open } = await t.system.db.query<{ id: string }>(
      "SELECT id FROM conv_conversations WHERE state = 'open' ORDER BY created_at LIMIT 3",
    );
    for (const c of open) {
      const res = await call(app, {
        method: 'POST',
        url: `/api/v1/conversations/${c.id}/takeover`,
        token,
        body: {},
      });
      expect(res.status, res.raw).toBe(200);
    }

    // A customer answers a reminder with C: the appointment is cancelled and its slot freed.
    // The sweep, a week after the month: everything past and unmarked is completed.
    vi.setSystemTime(localInstant('2027-04-20', '12:00'));
    await completePastAppointments(t.system.db, Date.now());
    await outboxSettled(t.system.db, 30_000);

    // The funnel for the month, day by day, from the endpoint.
    const reader = await tokenFor(t.system, { subject: 'month_owner', role: 'OWNER', org: DEMO.auth_org_id });
    const funnel = await call(app, {
      method: 'GET',
      url: '/api/v1/reports/funnel?from=2027-03-01&to=2027-04-30',
      token: reader,
    });
    expect(funnel.status, funnel.raw).toBe(200);
    type Row = Record<string, unknown> & { period_start: string };
    const reported = new Map<string, Row>();
    for (const row of (funnel.body as { items: Row[] }).items) reported.set(row.period_start, row);
    const fromApi = (field: string) => {
      const out: Record<string, number> = {};
      for (const [day, row] of reported) {
        const value = field.startsWith('revenue_')
          ? (row[field] as { amount_cents: number }).amount_cents
          : (row[field] as number);
        if (value) out[day] = value;
      }
      return out;
    };

    // The same numbers, computed independently from the raw tables (event-time columns only).
    const perDay = async (sql: string): Promise<Record<string, number>> => {
      const { rows } = await t.system.db.query<{ day: string; n: number }>(sql, [TZ]);
      return Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.day, r.n]));
    };
    const missedConversations = `SELECT c.id, c.created_at FROM conv_conversations c
      WHERE EXISTS (SELECT 1 FROM conv_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id AND k.missed)`;
    const firstOf = (where: string) => `
      SELECT (min(m.created_at) AT TIME ZONE $1)::date::text AS day FROM (${missedConversations}) c
      JOIN conv_messages m ON m.conversation_id = c.id WHERE ${where} GROUP BY c.id`;
    const count = (inner: string) =>
      `SELECT day, count(*)::int AS n FROM (${inner}) x GROUP BY day ORDER BY day`;

    const { rows: drift } = await t.system.db.query(
      `SELECT c.id, c.created_at, r.missed_at, r.started_at FROM conv_conversations c
       JOIN rep_conversations r ON r.conversation_id = c.id
       WHERE (c.created_at AT TIME ZONE $1)::date <> (r.missed_at AT TIME ZONE $1)::date`,
      [TZ],
    );
    expect(drift).toEqual([]);
    expect(fromApi('missed')).toEqual(
      await perDay(
        count(`SELECT (created_at AT TIME ZONE $1)::date::text AS day FROM (${missedConversations}) c`),
      ),
    );
    // Accepted by the provider within a second of the call here, so on the call's day.
    expect(fromApi('texted')).toEqual(
      await perDay(count(firstOf("m.direction = 'out' AND m.provider_sid IS NOT NULL"))),
    );
    expect(fromApi('replied')).toEqual(await perDay(count(firstOf("m.direction = 'in'"))));
    expect(fromApi('quoted')).toEqual(
      await perDay(count(firstOf("m.direction = 'out' AND m.body LIKE '%$149.00%'"))),
    );
    expect(fromApi('held')).toEqual(
      await perDay(
        count(`SELECT (min(r.created_at) AT TIME ZONE $1)::date::text AS day FROM (${missedConversations}) c
               JOIN sched_reservations r ON r.conversation_id = c.id GROUP BY c.id`),
      ),
    );
    expect(fromApi('booked')).toEqual(
      await perDay(
        count(`SELECT (confirmed_at AT TIME ZONE $1)::date::text AS day FROM sched_reservations
               WHERE kind = 'appointment' AND booking_id IS NULL`),
      ),
    );
    const { rows: prices } = await t.system.db.query<{ day: string; cents: number }>(
      `SELECT (r.confirmed_at AT TIME ZONE $1)::date::text AS day, sum(s.price_cents)::int AS cents
       FROM sched_reservations r JOIN catalog_services s ON s.tenant_id = r.tenant_id AND s.id = r.service_id
       WHERE r.kind = 'appointment' AND r.booking_id IS NULL GROUP BY 1`,
      [TZ],
    );
    expect(fromApi('revenue_booked')).toEqual(Object.fromEntries(prices.map((p) => [p.day, p.cents])));
    // Cancelled (not moved away), on the day of the cancellation; outcomes on the appointment's day.
    expect(fromApi('cancelled')).toEqual(
      await perDay(
        count(`SELECT (cancelled_at AT TIME ZONE $1)::date::text AS day FROM sched_reservations o
               WHERE kind = 'appointment' AND status = 'cancelled' AND NOT EXISTS (
                 SELECT 1 FROM sched_reservations n WHERE n.booking_id = COALESCE(o.booking_id, o.id) AND n.id <> o.id
                   AND n.created_at >= o.created_at)`),
      ),
    );
    for (const outcome of ['completed', 'no_show']) {
      expect(fromApi(outcome)).toEqual(
        await perDay(
          count(`SELECT (lower(timeslot) AT TIME ZONE $1)::date::text AS day FROM sched_reservations
                 WHERE kind = 'appointment' AND outcome = '${outcome}'`),
        ),
      );
    }
    const { rows: optedOut } = await t.system.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM comp_opt_outs WHERE tenant_id = $1',
      [tenantId],
    );
    expect(Object.values(fromApi('opted_out')).reduce((a, b) => a + b, 0)).toBe(optedOut[0]?.n);
    expect(Object.values(fromApi('taken_over')).reduce((a, b) => a + b, 0)).toBe(open.length);
    expect(Object.values(fromApi('missed')).reduce((a, b) => a + b, 0)).toBe(TOTAL_CALLS);

    const { rows: unanswered } = await t.system.db.query(
      'SELECT * FROM rep_conversations WHERE missed_at IS NOT NULL AND (texted_at IS NULL OR texted_at < missed_at)',
    );
    expect(unanswered).toEqual([]);
    // Every first text went out within the objective, and the endpoint says so.
    const latency = await call(app, {
      method: 'GET',
      url: '/api/v1/reports/first-response?from=2027-03-01&to=2027-03-31',
      token: reader,
    });
    expect(latency.body).toMatchObject({
      total: { responses: TOTAL_CALLS, meets_objective: true },
    });

    // The spring-forward day has 23 hours and its calls land on it: 00:30 PST and 23:30 PDT.
    expect(reported.get('2027-03-14')?.missed).toBe(CALLERS_PER_DAY + EDGE_TIMES.length);

    // A rebuild equals the live tables; the events again, reversed and twice, change nothing.
    const live = await reportTables(t.system.db);
    await rebuildReports(t.system.db);
    expect(await reportTables(t.system.db)).toEqual(live);
    const subscriber = reportSubscriber(t.system.db);
    const { rows: events } = await t.system.db.query<EventEnvelope & { occurred_at: Date }>(
      'SELECT tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload FROM outbox_events ORDER BY seq DESC',
    );
    for (const e of events) {
      if (subscriber.events !== '*' && !subscriber.events.includes(e.event_name)) continue;
      const envelope = { ...e, occurred_at: e.occurred_at.toISOString() };
      await subscriber.handle(envelope);
      await subscriber.handle(envelope);
    }
    expect(await reportTables(t.system.db)).toEqual(live);

    // Reminders scheduled for the month: never in quiet hours; 24 h ones at the appointment's
    // local time the day before unless that was quiet (also across the DST night).
    const { rows: reminders } = await t.system.db.query<{ start_after: Date; start: string; offset: number }>(
      `SELECT start_after, data->>'start' AS start, (data->>'offset_minutes')::int AS offset
       FROM pgboss.job WHERE name = 'appointment-reminder'`,
    );
    expect(reminders.length).toBeGreaterThan(20);
    let acrossDst = 0;
    for (const r of reminders) {
      const at = r.start_after.getTime();
      expect(
        isQuietAt(at, TZ, { startMinute: 21 * 60, endMinute: 8 * 60 }),
        r.start_after.toISOString(),
      ).toBe(false);
      const start = Date.parse(r.start);
      const dayBefore = DateTime.fromMillis(start, { zone: TZ }).minus({ days: 1 }).toMillis();
      if (r.offset === 1440 && !isQuietAt(dayBefore, TZ, { startMinute: 21 * 60, endMinute: 8 * 60 })) {
        const wall = (ms: number) =>
          new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit' }).format(ms);
        expect(wall(at)).toBe(wall(start));
        if (localDate(start) === '2027-03-15' || localDate(start) === '2027-03-14') acrossDst += 1;
      }
    }
    expect(acrossDst).toBeGreaterThan(0);

    vi.useRealTimers();
    console.info(
      `simulated month: ${n} calls, ${appointments.length} appointments, ${events.length} events; ` +
        `dialogues ${((simulated - started) / 1000).toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 240_000);
});
