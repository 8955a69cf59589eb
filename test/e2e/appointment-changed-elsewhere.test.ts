import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { appOf, call, settleOutbound, tokenFor } from '../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';
import { bookByText, textsOf, waitForTexts } from '../helpers/texting-caller.ts';

// A caller books by text; then an operator cancels, or moves, the appointment through the API, not
// through the conversation. The scheduling event reaches the caller's conversation (the outbox
// dispatcher → AppointmentCancelledElsewhere / AppointmentMovedElsewhere, one dispatch per event),
// and "when is my appointment?" is answered from the truth. The caller is texted nothing about the
// change by the assistant.

let t: TestSystem;
let owner: string;
let tenantId: string;
beforeAll(async () => {
  t = await startTestSystem();
  owner = await tokenFor(t.system, { subject: 'elsewhere_owner', role: 'OWNER', org: DEMO.auth_org_id });
  const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    DEMO.slug,
  ]);
  tenantId = rows[0]?.id as string;
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

const api = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token: owner, ...(body === undefined ? {} : { body }) });

/** The appointment the caller's conversation believes in (its dialogue's), read from its snapshot. */
async function believed(caller: string): Promise<{ appointmentId: string | null; start: string | null }> {
  const { rows } = await t.system.db.query<{ snapshot: { context: { dialogue: Record<string, unknown> } } }>(
    `SELECT snapshot FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed'`,
    [tenantId, caller],
  );
  const dialogue = rows[0]?.snapshot.context.dialogue ?? {};
  const booked = dialogue.booked as { start: string } | null | undefined;
  return { appointmentId: (dialogue.appointmentId as string | null) ?? null, start: booked?.start ?? null };
}

async function ask(caller: string, body: string): Promise<string> {
  const before = textsOf(t, caller).length;
  await t.phone.sms({ from: caller, to: DEMO.twilio_number, body });
  const texts = await waitForTexts(t, caller, before + 1);
  return texts[before] as string;
}

describe('an appointment changed outside the conversation', () => {
  it('cancelled by an operator: the conversation learns it, and says there is no appointment', async () => {
    const caller = '+13105550871';
    const booking = await bookByText(t, caller);
    expect((await believed(caller)).appointmentId).toBe(booking.id);
    const textsBefore = textsOf(t, caller).length;

    const cancelled = await api('POST', `/api/v1/appointments/${booking.id}/cancel`);
    expect(cancelled.status, cancelled.raw).toBeLessThan(300);
    await waitFor(async () => ((await believed(caller)).appointmentId === null ? true : null), 10_000);
    // Nothing was texted about it by the assistant.
    expect(textsOf(t, caller)).toHaveLength(textsBefore);

    expect(await ask(caller, 'when is my appointment?')).toBe(
      'You have no appointment with us yet. What can we help with?',
    );
    // One event, applied once (the dispatch's idempotency key is the event's id).
    const { rows } = await t.system.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM conv_applied_events
       WHERE tenant_id = $1 AND idempotency_key LIKE 'appointment-change:%'`,
      [tenantId],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('moved by an operator: the conversation follows it, and tells the new time', async () => {
    const caller = '+13105550872';
    const booking = await bookByText(t, caller);
    const { rows } = await t.system.db.query<{ service_id: string }>(
      'SELECT service_id FROM sched_reservations WHERE tenant_id = $1 AND id = $2',
      [tenantId, booking.id],
    );
    const from = new Date(Date.parse(booking.start) + 86_400_000).toISOString();
    const to = new Date(Date.parse(booking.start) + 8 * 86_400_000).toISOString();
    const open = await api(
      'GET',
      `/api/v1/availability?service_id=${rows[0]?.service_id}&from=${from}&to=${to}`,
    );
    const slot = (open.body as { items: { start: string }[] }).items[0];
    if (!slot) throw new Error(`no open time: ${open.raw}`);

    const moved = await api('POST', `/api/v1/appointments/${booking.id}/reschedule`, { start: slot.start });
    expect(moved.status, moved.raw).toBeLessThan(300);
    const newId = (moved.body as { id: string }).id;
    expect(newId).not.toBe(booking.id);
    const now = await waitFor(async () => {
      const b = await believed(caller);
      return b.appointmentId === newId ? b : null;
    }, 10_000);
    expect(Date.parse(now.start ?? '')).toBe(Date.parse(slot.start));

    const answer = await ask(caller, 'when is my appointment?');
    expect(answer).toMatch(/^Your Drain cleaning is on /);
    const time = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/Los_Angeles',
      hour: 'numeric',
      minute: '2-digit',
    }).format(new Date(slot.start));
    expect(answer).toContain(time);
    // C now cancels the new appointment.
    expect(await ask(caller, 'C')).toMatch(/cancelled/);
    const status = await t.system.db.query<{ status: string }>(
      'SELECT status FROM sched_reservations WHERE tenant_id = $1 AND id = $2',
      [tenantId, newId],
    );
    expect(status.rows[0]?.status).toBe('cancelled');
  });
});
