import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/domain/event-catalog.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { rebuildReports } from '../../../src/runtime/reports/rebuild-reports.ts';
import { reportSubscriber } from '../../../src/runtime/reports/report-subscriber.ts';
import { outboxSettled, reportTables } from '../../helpers/report-tables.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// The rep_* read models fed by the real system: callers go through the webhooks and the dialogue,
// the outbox dispatcher feeds the reporting subscriber, and the tables say what happened. The
// same events delivered twice, or in another order, or replayed by a rebuild, give the same tables.

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  await t?.stop();
});

async function textsTo(caller: string, count: number): Promise<string[]> {
  return waitFor(async () => {
    const bodies = t.sandbox
      .messages()
      .filter((m) => m.to === caller)
      .map((m) => m.body);
    return bodies.length >= count ? bodies : null;
  });
}

async function reportedEvents(): Promise<EventEnvelope[]> {
  const { rows } = await t.system.db.query<EventEnvelope & { occurred_at: Date }>(
    `SELECT tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload
     FROM outbox_events ORDER BY seq`,
  );
  return rows.map((r) => ({ ...r, occurred_at: r.occurred_at.toISOString() }));
}

describe('reporting read models', () => {
  it('count the funnel of real conversations, once, in any order, and a rebuild lands on the same tables', async () => {
    const booker = '+13105550301';
    await t.phone.missedCall({ from: booker, to: DEMO.twilio_number });
    await textsTo(booker, 1);
    await t.phone.sms({ from: booker, to: DEMO.twilio_number, body: 'my drain is clogged' });
    await textsTo(booker, 2);
    await t.phone.sms({ from: booker, to: DEMO.twilio_number, body: '1' });
    await textsTo(booker, 3);
    await t.phone.sms({ from: booker, to: DEMO.twilio_number, body: 'yes' });
    expect((await textsTo(booker, 4))[3]).toContain("You're booked");

    const silent = '+13105550302';
    await t.phone.missedCall({ from: silent, to: DEMO.twilio_number });
    await textsTo(silent, 1);

    const stopper = '+13105550303';
    await t.phone.missedCall({ from: stopper, to: DEMO.twilio_number });
    await textsTo(stopper, 1);
    await t.phone.sms({ from: stopper, to: DEMO.twilio_number, body: 'STOP' });
    await textsTo(stopper, 2);

    await outboxSettled(t.system.db);
    const live = await reportTables(t.system.db);
    const totals = live.funnel.reduce<Record<string, number>>((sum, row) => {
      for (const [key, value] of Object.entries(row)) {
        if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value;
      }
      return sum;
    }, {});
    expect(totals).toMatchObject({
      missed: 3,
      texted: 3,
      replied: 2,
      quoted: 1,
      held: 1,
      booked: 1,
      opted_out: 1,
      revenue_booked_cents: 14_900,
    });
    const responses = live.firstResponse.reduce((n, row) => n + Number(row.responses), 0);
    expect(responses).toBe(3);

    // Every event delivered again: nothing changes.
    const subscriber = reportSubscriber(t.system.db);
    const events = await reportedEvents();
    for (const event of events) {
      if (subscriber.events === '*' || subscriber.events.includes(event.event_name))
        await subscriber.handle(event);
    }
    expect(await reportTables(t.system.db)).toEqual(live);

    // A rebuild from the events lands on the live tables.
    const progress: number[] = [];
    const rebuilt = await rebuildReports(t.system.db, (p) => {
      if (p.phase === 'apply') progress.push(p.done);
    });
    expect(rebuilt.applied).toBeGreaterThan(10);
    expect(progress.at(-1)).toBe(rebuilt.applied);
    expect(await reportTables(t.system.db)).toEqual(live);

    // From nothing, the events backwards and each twice: the same tables again.
    await t.system.db.query(
      'TRUNCATE rep_events, rep_conversations, rep_appointments, rep_funnel_daily, rep_first_response_daily',
    );
    const reported = events.filter(
      (e) => subscriber.events === '*' || subscriber.events.includes(e.event_name),
    );
    for (const event of [...reported].reverse().flatMap((e) => [e, e])) await subscriber.handle(event);
    expect(await reportTables(t.system.db)).toEqual(live);
  });
});
