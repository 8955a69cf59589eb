import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/persistence/seed-demo.ts';
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
  it('goes from a missed call to a booked appointment, with no double booking', async () => {
    const caller = '+13105550177';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    expect((await textsTo(caller, 1))[0]).toContain('Demo Plumbing');

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'my drain is clogged' });
    const quote = (await textsTo(caller, 2))[1] ?? '';
    expect(quote).toContain('Drain cleaning is $149.00');
    expect(quote).toMatch(/1\) \w{3} \d\d:\d\d 2\) \w{3} \d\d:\d\d 3\) \w{3} \d\d:\d\d/);

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: '2' });
    const hold = (await textsTo(caller, 3))[2] ?? '';
    expect(hold).toContain('Reply YES');
    const { rows: holds } = await t.system.db.query(
      "SELECT kind, status FROM sched_reservations WHERE status = 'live'",
    );
    expect(holds).toEqual([{ kind: 'hold', status: 'live' }]);

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'Yes please' });
    const booked = (await textsTo(caller, 4))[3] ?? '';
    expect(booked).toContain("You're booked: Drain cleaning");
    const { rows } = await t.system.db.query(
      "SELECT kind, status FROM sched_reservations WHERE status = 'live'",
    );
    expect(rows).toEqual([{ kind: 'appointment', status: 'live' }]);

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'please cancel my appointment' });
    expect((await textsTo(caller, 5))[4]).toContain('is cancelled');
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
