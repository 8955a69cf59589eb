import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reminderTimes } from '../../../src/domain/reminder-schedule.ts';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { createDispatch } from '../../../src/runtime/dispatch.ts';
import { jobIdFor, type ReminderJob } from '../../../src/runtime/reminders/schedule-reminders.ts';
import { sendReminder } from '../../../src/runtime/reminders/send-reminder.ts';
import { completePastAppointments } from '../../../src/runtime/scheduling/complete-past-appointments.ts';
import { appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { outboxSettled } from '../../helpers/report-tables.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';
import { bookByText as bookTheFirstTimeByText, textsOf, waitForTexts } from '../../helpers/texting-caller.ts';

// Reminders and outcomes through the real system: booking schedules the reminder jobs (keyed by
// appointment, start and offset), a due reminder texts the customer through the dialogue's send
// path, C cancels and frees the slot, R offers new times and moves the appointment, a moved or
// cancelled appointment's reminder sends nothing, quiet hours send nothing, and the sweep completes
// what nobody marked (with the optional follow-up text). The reminder job runs with a clock the
// test sets; everything else is real.

let t: TestSystem;
let tenantId: string;
let dispatch: ReturnType<typeof createDispatch>;

beforeAll(async () => {
  t = await startTestSystem();
  const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    DEMO.slug,
  ]);
  tenantId = rows[0]?.id as string;
  // The test runs at any hour: quiet hours are moved to a minute nobody tests in, except where a
  // test sets them itself.
  await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_start_minute', 3 * 60);
  await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_end_minute', 3 * 60 + 1);
  dispatch = createDispatch({ db: t.system.db, boss: t.system.boss, readGates: readGatesFromBilling });
});
afterAll(async () => {
  await t?.stop();
});

const texts = (caller: string) => textsOf(t, caller);
const textsTo = (caller: string, count: number) => waitForTexts(t, caller, count);

async function bookByText(caller: string): Promise<{ id: string; start: string }> {
  const booked = await bookTheFirstTimeByText(t, caller);
  expect(texts(caller)[3]).toContain("You're booked");
  return booked;
}

const job = (a: { id: string; start: string }, offset = 120): ReminderJob => ({
  tenant_id: tenantId,
  appointment_id: a.id,
  start: a.start,
  offset_minutes: offset,
});
const twoHoursBefore = (a: { start: string }) => () => Date.parse(a.start) - 2 * 3_600_000;

async function reminderJobs(appointmentId: string): Promise<{ id: string; start_after: Date }[]> {
  const { rows } = await t.system.db.query<{ id: string; start_after: Date }>(
    `SELECT id, start_after FROM pgboss.job WHERE name = 'appointment-reminder' AND data->>'appointment_id' = $1`,
    [appointmentId],
  );
  return rows;
}

describe('appointment reminders', () => {
  it('are scheduled when booked, text the customer when due, and C cancels and frees the slot', async () => {
    const caller = '+13105550401';
    const booked = await bookByText(caller);
    await outboxSettled(t.system.db);
    // The jobs are the policy's offsets that are still ahead (an appointment booked for soon may
    // have none left), each keyed by appointment, start and offset.
    const expected = reminderTimes({
      start: booked.start,
      offsetsMinutes: [1440, 120],
      timeZone: DEMO.time_zone,
      quiet: { startMinute: 180, endMinute: 181 },
      nowMs: Date.now(),
    });
    const scheduled = await reminderJobs(booked.id);
    expect(scheduled.map((r) => r.id).sort()).toEqual(
      expected.map((r) => jobIdFor(`reminder:${booked.id}:${booked.start}:${r.offsetMinutes}`)).sort(),
    );
    expect(scheduled.map((r) => r.start_after.toISOString()).sort()).toEqual(
      expected.map((r) => r.sendAt).sort(),
    );

    expect(await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked))).toBe(
      'sent',
    );
    const reminder = (await textsTo(caller, 5))[4] ?? '';
    expect(reminder).toMatch(
      /^Reminder from Demo Plumbing: Drain cleaning on .+\. Reply C to cancel or R to change\./,
    );
    // The same job again (pg-boss retried it): one text.
    await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked));

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'C' });
    expect((await textsTo(caller, 6))[5]).toContain('is cancelled');
    expect(texts(caller)).toHaveLength(6);
    const { rows } = await t.system.db.query(
      "SELECT status FROM sched_reservations WHERE id = $1 AND kind = 'appointment'",
      [booked.id],
    );
    expect(rows).toEqual([{ status: 'cancelled' }]);
    // Cancelled: its other reminder sends nothing.
    expect(
      await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked, 1440)),
    ).toBe('stale');
    expect(texts(caller)).toHaveLength(6);
  });

  it('R offers new times and moves the appointment; the old time`s reminder is stale, the new one scheduled', async () => {
    const caller = '+13105550402';
    const booked = await bookByText(caller);
    await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked));
    await textsTo(caller, 5);
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'R' });
    expect((await textsTo(caller, 6))[5]).toMatch(/1\) .+ 2\) /);
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: '2' });
    expect((await textsTo(caller, 7))[6]).toMatch(/^Done: your Drain cleaning is now on/);
    const { rows } = await t.system.db.query<{ id: string; start: Date; booking_id: string | null }>(
      `SELECT r.id, lower(r.timeslot) AS start, r.booking_id FROM sched_reservations r JOIN conv_conversations c
         ON c.tenant_id = r.tenant_id AND c.id = r.conversation_id
       WHERE c.caller = $1 AND r.kind = 'appointment' AND r.status = 'live'`,
      [caller],
    );
    const moved = rows[0];
    if (!moved) throw new Error('not moved');
    expect(moved.id).not.toBe(booked.id);
    expect(moved.booking_id).toBe(booked.id);
    expect(await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked))).toBe(
      'stale',
    );
    await outboxSettled(t.system.db);
    expect((await reminderJobs(moved.id)).length).toBeGreaterThanOrEqual(1);
  });

  it('sends nothing in quiet hours, and an operator`s move makes the old reminder stale', async () => {
    const caller = '+13105550403';
    const booked = await bookByText(caller);
    await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_start_minute', 0);
    await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_end_minute', 24 * 60 - 1);
    try {
      expect(
        await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked)),
      ).toBe('quiet_hours');
    } finally {
      await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_start_minute', 3 * 60);
      await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_end_minute', 3 * 60 + 1);
    }
    expect(texts(caller)).toHaveLength(4);

    const owner = await tokenFor(t.system, {
      subject: 'reminder_owner',
      role: 'OWNER',
      org: DEMO.auth_org_id,
    });
    const app = appOf(t.system);
    const availability = await call(app, {
      method: 'GET',
      url: `/api/v1/appointments?from=${encodeURIComponent(booked.start)}&to=${encodeURIComponent(new Date(Date.parse(booked.start) + 1).toISOString())}`,
      token: owner,
    });
    const item = (availability.body as { items: { service_id: string; resource_id: string }[] }).items[0];
    if (!item) throw new Error('appointment not listed');
    const slots = await call(app, {
      method: 'GET',
      url: `/api/v1/availability?service_id=${item.service_id}&from=${encodeURIComponent(new Date(Date.parse(booked.start) + 3_600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.parse(booked.start) + 4 * 86_400_000).toISOString())}`,
      token: owner,
    });
    const next = (slots.body as { items: { start: string }[] }).items[0];
    if (!next) throw new Error('no free slot');
    const moved = await call(app, {
      method: 'POST',
      url: `/api/v1/appointments/${booked.id}/reschedule`,
      token: owner,
      body: { start: next.start },
    });
    expect(moved.status, moved.raw).toBe(200);
    expect(await sendReminder({ db: t.system.db, dispatch, now: twoHoursBefore(booked) }, job(booked))).toBe(
      'stale',
    );
  });
});

describe('outcomes', () => {
  it('the sweep completes an unmarked appointment after the policy delay, once, with the same event and the follow-up text when enabled', async () => {
    const caller = '+13105550404';
    const booked = await bookByText(caller);
    const { rows: ends } = await t.system.db.query<{ end: Date }>(
      'SELECT upper(timeslot) AS end FROM sched_reservations WHERE id = $1',
      [booked.id],
    );
    const end = ends[0]?.end;
    if (!end) throw new Error('no appointment');
    const endMs = end.getTime();
    const outcome = async () =>
      (
        await t.system.db.query<{ outcome: string | null }>(
          'SELECT outcome FROM sched_reservations WHERE id = $1',
          [booked.id],
        )
      ).rows[0]?.outcome;
    await completePastAppointments(t.system.db, endMs + 3 * 3_600_000);
    expect(await outcome()).toBeNull();
    await setPolicyValue(t.system.db, tenantId, 'outcomes.follow_up_enabled', true);
    await completePastAppointments(t.system.db, endMs + 4 * 3_600_000 + 1);
    expect(await outcome()).toBe('completed');
    await completePastAppointments(t.system.db, endMs + 5 * 3_600_000);
    const { rows } = await t.system.db.query<{ outcome: string; correlation_id: string }>(
      `SELECT payload->>'outcome' AS outcome, correlation_id FROM outbox_events
       WHERE event_name = 'nmc.scheduling.AppointmentOutcomeMarked' AND payload->>'appointment_id' = $1`,
      [booked.id],
    );
    expect(rows).toEqual([{ outcome: 'completed', correlation_id: `auto-complete:${booked.id}` }]);
    expect((await textsTo(caller, 5))[4]).toMatch(/^Thanks for choosing Demo Plumbing!/);
    await setPolicyValue(t.system.db, tenantId, 'outcomes.follow_up_enabled', false);
  });
});
