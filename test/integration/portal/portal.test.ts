import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { createDispatch } from '../../../src/runtime/dispatch.ts';
import { portalLinks } from '../../../src/runtime/portal/portal-links.ts';
import { sendReminder } from '../../../src/runtime/reminders/send-reminder.ts';
import { appOf, call, errorOf } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';
import { bookByText, textsOf, waitForTexts } from '../../helpers/texting-caller.ts';

// The customer's own page: the reminder carries a short link; its code opens a portal token; the
// customer sees the booking, moves it (the link follows the booking, not the slot) and cancels it
// (the slot is free, and the link answers 410 from then on). Bad tokens are 401, unknown codes 404,
// expired links 410: never a 500.

let t: TestSystem;
let tenantId: string;
beforeAll(async () => {
  t = await startTestSystem();
  const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    DEMO.slug,
  ]);
  tenantId = rows[0]?.id as string;
  await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_start_minute', 3 * 60);
  await setPolicyValue(t.system.db, tenantId, 'reminders.quiet_end_minute', 3 * 60 + 1);
});
afterAll(async () => {
  await t?.stop();
});

const texts = (caller: string) => textsOf(t, caller);
const textsTo = (caller: string, count: number) => waitForTexts(t, caller, count);

const api = (method: string, url: string, token?: string, body?: unknown) =>
  call(appOf(t.system), { method, url, token: token ?? null, ...(body === undefined ? {} : { body }) });

describe('customer portal', () => {
  it('opens from the reminder`s link, follows a reschedule, and stops after a cancellation', async () => {
    const caller = '+13105550501';
    const booked = await bookByText(t, caller);
    const { start } = booked;

    const dispatch = createDispatch({
      db: t.system.db,
      boss: t.system.boss,
      readGates: readGatesFromBilling,
    });
    const linkFor = portalLinks({ db: t.system.db, publicBaseUrl: t.system.config.PUBLIC_BASE_URL });
    const reminderJob = { tenant_id: tenantId, appointment_id: booked.id, start, offset_minutes: 120 };
    await sendReminder(
      { db: t.system.db, dispatch, linkFor, now: () => Date.parse(start) - 7_200_000 },
      reminderJob,
    );
    const reminder = (await textsTo(caller, 5))[4] ?? '';
    const code = /Manage: \S+\/p\/([A-Za-z0-9]+)$/.exec(reminder)?.[1];
    if (!code) throw new Error(`no link in: ${reminder}`);
    // The confirmation carried the same link (one per booking and phone).
    const confirmation = texts(caller)[3] ?? '';
    expect(confirmation).toMatch(/^You're booked: Drain cleaning .+, or manage it at \S+\/p\/[A-Za-z0-9]+$/);
    expect(confirmation.endsWith(`/p/${code}`)).toBe(true);
    expect(reminder.length).toBeLessThanOrEqual(160);

    const redirect = await api('GET', `/p/${code}`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`/app/portal#code=${code}`);

    const session = await api('POST', '/api/portal/sessions', undefined, { code });
    expect(session.status, session.raw).toBe(201);
    const token = (session.body as { token: string }).token;
    const page = await api('GET', '/api/portal/booking', token);
    expect(page.status, page.raw).toBe(200);
    expect(page.body).toMatchObject({
      business: { name: 'Demo Plumbing' },
      booking: { booking_id: booked.id, appointment_id: booked.id, status: 'confirmed', upcoming: true },
    });

    const from = new Date(Date.parse(start) + 3_600_000).toISOString();
    const to = new Date(Date.parse(start) + 5 * 86_400_000).toISOString();
    const open = await api('GET', `/api/portal/booking/availability?from=${from}&to=${to}`, token);
    expect(open.status, open.raw).toBe(200);
    const next = (open.body as { items: { start: string }[] }).items[0];
    if (!next) throw new Error('no open time');
    const moved = await api('POST', '/api/portal/booking/reschedule', token, { start: next.start });
    expect(moved.status, moved.raw).toBe(200);
    const movedBooking = (
      moved.body as { booking: { booking_id: string; appointment_id: string; start: string } }
    ).booking;
    expect(movedBooking.booking_id).toBe(booked.id);
    expect(movedBooking.appointment_id).not.toBe(booked.id);
    expect(Date.parse(movedBooking.start)).toBe(Date.parse(next.start));

    // The same link after the move: the booking at its new time.
    const again = await api('POST', '/api/portal/sessions', undefined, { code });
    expect(again.status).toBe(201);
    const token2 = (again.body as { token: string }).token;
    expect(
      ((await api('GET', '/api/portal/booking', token2)).body as { booking: unknown }).booking,
    ).toMatchObject({
      appointment_id: movedBooking.appointment_id,
    });

    const cancelled = await api('POST', '/api/portal/booking/cancel', token2, {});
    expect(cancelled.status, cancelled.raw).toBe(200);
    expect((cancelled.body as { booking: { status: string } }).booking.status).toBe('cancelled');
    const { rows: live } = await t.system.db.query(
      "SELECT 1 FROM sched_reservations WHERE COALESCE(booking_id, id) = $1 AND status = 'live'",
      [booked.id],
    );
    expect(live).toEqual([]);

    const afterCancel = await api('GET', '/api/portal/booking', token2);
    expect(afterCancel.status).toBe(410);
    expect(errorOf(afterCancel).code).toBe('gone');
    expect(errorOf(afterCancel).message).toContain('cancelled');
    expect((await api('POST', '/api/portal/sessions', undefined, { code })).status).toBe(410);
    expect((await api('POST', '/api/portal/booking/cancel', token2, {})).status).toBe(410);
  });

  it('refuses bad tokens (401), unknown codes (404), malformed codes (400) and expired links (410)', async () => {
    expect((await api('GET', '/api/portal/booking', 'not-a-token')).status).toBe(401);
    expect((await api('GET', '/api/portal/booking')).status).toBe(401);
    // An operator's token is not a portal token.
    const forged = await api('GET', '/api/portal/booking', 'eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.');
    expect(forged.status).toBe(401);
    expect((await api('POST', '/api/portal/sessions', undefined, { code: 'Nope23456789' })).status).toBe(404);
    expect((await api('POST', '/api/portal/sessions', undefined, { code: '../../etc' })).status).toBe(400);
    expect((await api('GET', '/p/..%2F..%2Fx')).status).toBe(400);

    await t.system.db.query(
      `INSERT INTO sched_portal_links (code, tenant_id, booking_id, phone, expires_at)
       VALUES ('Expired23456', $1, gen_random_uuid(), '+13105550599', now() - interval '1 minute')`,
      [tenantId],
    );
    const expired = await api('POST', '/api/portal/sessions', undefined, { code: 'Expired23456' });
    expect(expired.status).toBe(410);
    expect(errorOf(expired).message).toContain('expired');
  });
});
