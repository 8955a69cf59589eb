import { DEMO } from '../../src/persistence/seed-demo.ts';
import { type TestSystem, waitFor } from './system.ts';

// A caller of the demo business, as the tests drive one through the Twilio sandbox: the texts the
// phone received, and a booking made by text (missed call, the need, the first time offered, YES).

/** The bodies of the texts `caller` received, oldest first. */
export function textsOf(t: TestSystem, caller: string): string[] {
  return t.sandbox
    .messages()
    .filter((m) => m.to === caller)
    .map((m) => m.body);
}

/** Waits until `caller` has received at least `count` texts; all of them. */
export function waitForTexts(t: TestSystem, caller: string, count: number): Promise<string[]> {
  return waitFor(async () => (textsOf(t, caller).length >= count ? textsOf(t, caller) : null));
}

/** Books the first offered time through the dialogue; the live appointment's id and start. */
export async function bookByText(t: TestSystem, caller: string): Promise<{ id: string; start: string }> {
  await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
  await waitForTexts(t, caller, 1);
  await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'my drain is clogged' });
  await waitForTexts(t, caller, 2);
  await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: '1' });
  await waitForTexts(t, caller, 3);
  await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'yes' });
  await waitForTexts(t, caller, 4);
  const { rows } = await t.system.db.query<{ id: string; start: Date }>(
    `SELECT r.id, lower(r.timeslot) AS start FROM sched_reservations r JOIN conv_conversations c
       ON c.tenant_id = r.tenant_id AND c.id = r.conversation_id
     WHERE c.caller = $1 AND r.kind = 'appointment' AND r.status = 'live'`,
    [caller],
  );
  const row = rows[0];
  if (!row) throw new Error('not booked');
  return { id: row.id, start: row.start.toISOString() };
}
