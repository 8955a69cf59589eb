import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { appOf, call, errorOf, tokenFor } from '../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// The whole SMS dialogue, from a missed call to a booked appointment, through the sandbox Twilio.

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

describe('booking dialogue', () => {
  it('goes from a missed call to a booked appointment; the held time cannot be taken by anyone else, even while it is being confirmed', async () => {
    const caller = '+13105550177';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    expect((await textsTo(caller, 1))[0]).toContain('Demo Plumbing');

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'my drain is clogged' });
    const quote = (await textsTo(caller, 2))[1] ?? '';
    expect(quote).toContain('Drain cleaning is $149.00');
    expect(quote).toMatch(/1\) .+ \d{1,2}:\d\d [AP]M 2\) .+ \d{1,2}:\d\d [AP]M 3\) .+ \d{1,2}:\d\d [AP]M/);

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: '2' });
    const hold = (await textsTo(caller, 3))[2] ?? '';
    expect(hold).toContain('Reply YES');
    const { rows: holds } = await t.system.db.query<{
      kind: string;
      status: string;
      service_id: string;
      resource_id: string;
      start: Date;
    }>(
      `SELECT kind, status, service_id, resource_id, lower(timeslot) AS start
       FROM sched_reservations WHERE status = 'live'`,
    );
    expect(holds.map(({ kind, status }) => ({ kind, status }))).toEqual([{ kind: 'hold', status: 'live' }]);
    const held = holds[0];
    if (!held) throw new Error('no live hold');

    // A technician tries to hold the caller's time for someone else while the caller says YES.
    const tech = await tokenFor(t.system, { subject: 'e2e_rival_tech', role: 'TECH', org: DEMO.auth_org_id });
    const rivalHold = () =>
      call(appOf(t.system), {
        method: 'POST',
        url: '/api/v1/holds',
        token: tech,
        body: { service_id: held.service_id, resource_id: held.resource_id, start: held.start.toISOString() },
      });
    const [rivals] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, rivalHold)),
      t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'Yes please' }),
    ]);
    for (const rival of rivals) {
      expect(rival.status, rival.raw).toBe(409);
      expect(errorOf(rival).code).toBe('conflict');
    }
    const booked = (await textsTo(caller, 4))[3] ?? '';
    expect(booked).toContain("You're booked: Drain cleaning");
    const { rows } = await t.system.db.query(
      "SELECT kind, status FROM sched_reservations WHERE status = 'live'",
    );
    expect(rows).toEqual([{ kind: 'appointment', status: 'live' }]);
    // Booked, the time is still not anyone else's.
    expect((await rivalHold()).status).toBe(409);

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'please cancel my appointment' });
    expect((await textsTo(caller, 5))[4]).toMatch(/^Cancel your .+ Drain cleaning\? Reply YES/);
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'yes' });
    expect((await textsTo(caller, 6))[5]).toContain('is cancelled');
    const { rows: after } = await t.system.db.query(
      "SELECT count(*)::int AS n FROM sched_reservations WHERE status = 'live'",
    );
    expect(after[0].n).toBe(0);
  });

  it('hands the conversation to a person after repeated misunderstandings', async () => {
    const caller = '+13105550178';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    await textsTo(caller, 1);
    for (const body of ['asdf', 'qwerty', 'zzz'])
      await t.phone.sms({ from: caller, to: DEMO.twilio_number, body });
    const texts = await textsTo(caller, 4);
    expect(texts[3]).toContain('get a person');
    const { rows } = await t.system.db.query('SELECT state FROM conv_conversations WHERE caller = $1', [
      caller,
    ]);
    expect(rows[0].state).toBe('human');
  });
});
