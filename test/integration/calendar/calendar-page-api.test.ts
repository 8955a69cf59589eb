import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSpanForSms } from '../../../src/domain/local-time-words.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { appOf, call, startConversation, tokenFor } from '../../helpers/operator-api.ts';
import { waitFor } from '../../helpers/system.ts';
import { type CalendarFixture, startCalendarFixture } from './calendar-fixture.ts';

// What the web app's calendar reads besides appointments: the live holds with their expiry, the
// busy blocks mirrored from connected calendars (times only), and the "needs attention" mark on
// an appointment that a busy block now overlaps. Another tenant sees none of it.

let f: CalendarFixture;
let otherOwner: string;

beforeAll(async () => {
  f = await startCalendarFixture();
  await f.connect();
  const other = await seedTenant(f.t.system.db);
  otherOwner = await tokenFor(f.t.system, { subject: 'other_owner', role: 'OWNER', org: other.auth_org_id });
});
afterAll(async () => {
  await f?.stop();
});

const range = (from: string, days = 7) =>
  `from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(Date.parse(from) + days * 86_400_000).toISOString())}`;

/** A GET as the owner of another tenant. */
const asOther = (url: string) => call(appOf(f.t.system), { method: 'GET', url, token: otherOwner });

describe('GET /api/v1/holds', () => {
  it('lists the live holds of the range with their expiry; released ones and other tenants see nothing', async () => {
    const slot = await f.freeSlot(3);
    const placed = await f.api('POST', '/api/v1/holds', {
      service_id: f.serviceId,
      resource_id: f.resourceId,
      start: slot.start,
    });
    expect(placed.status, placed.raw).toBe(201);
    const hold = placed.body as { id: string; expires_at: string };

    const listed = await f.api('GET', `/api/v1/holds?${range(slot.start, 1)}&resource_id=${f.resourceId}`);
    expect(listed.status, listed.raw).toBe(200);
    expect((listed.body as { items: unknown[] }).items).toEqual([
      {
        id: hold.id,
        resource_id: f.resourceId,
        service_id: f.serviceId,
        start: slot.start,
        end: slot.end.replace('.000Z', 'Z'),
        expires_at: hold.expires_at,
        conversation_id: null,
      },
    ]);
    // Outside the range, or of another resource: not listed.
    const later = await f.api(
      'GET',
      `/api/v1/holds?${range(new Date(Date.parse(slot.end) + 1).toISOString(), 1)}`,
    );
    expect((later.body as { items: Array<{ id: string }> }).items.map((h) => h.id)).not.toContain(hold.id);

    const other = await asOther(`/api/v1/holds?${range(slot.start, 1)}&resource_id=${f.resourceId}`);
    expect(other.status, other.raw).toBe(200);
    expect((other.body as { items: unknown[] }).items).toEqual([]);

    expect((await f.api('DELETE', `/api/v1/holds/${hold.id}`)).status).toBe(204);
    const after = await f.api('GET', `/api/v1/holds?${range(slot.start, 1)}`);
    expect((after.body as { items: unknown[] }).items).toEqual([]);
  });

  it('pages by start with keyset cursors, and refuses a cursor that is not one of ours', async () => {
    const first = await f.freeSlot(7);
    const ids: string[] = [];
    for (const start of [first.start, first.end]) {
      const placed = await f.api('POST', '/api/v1/holds', {
        service_id: f.serviceId,
        resource_id: f.resourceId,
        start,
      });
      expect(placed.status, placed.raw).toBe(201);
      ids.push((placed.body as { id: string }).id);
    }
    type Page = { items: Array<{ id: string }>; next_cursor: string | null };
    const one = await f.api('GET', `/api/v1/holds?${range(first.start, 1)}&limit=1`);
    const page1 = one.body as Page;
    expect(page1.items.map((h) => h.id)).toEqual([ids[0]]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const two = await f.api(
      'GET',
      `/api/v1/holds?${range(first.start, 1)}&limit=1&cursor=${page1.next_cursor}`,
    );
    expect(two.body).toEqual({ items: [expect.objectContaining({ id: ids[1] })], next_cursor: null });
    const bad = await f.api('GET', `/api/v1/holds?${range(first.start, 1)}&cursor=not-ours`);
    expect(bad.status).toBe(400);
    for (const id of ids) expect((await f.api('DELETE', `/api/v1/holds/${id}`)).status).toBe(204);
  });

  it('refuses a window longer than 62 days, and a window that ends before it starts', async () => {
    const from = new Date().toISOString();
    const long = await f.api('GET', `/api/v1/holds?${range(from, 63)}`);
    expect(long.status).toBe(400);
    expect((long.body as { error: { code: string } }).error.code).toBe('validation_failed');
    const backwards = await f.api('GET', `/api/v1/holds?from=2031-01-10&to=2031-01-01`);
    expect(backwards.status).toBe(400);
  });
});

describe('GET /api/v1/calendar/busy', () => {
  it("lists the mirrored busy blocks by time only (no title); another tenant's list is empty", async () => {
    const slot = await f.freeSlot(4);
    f.google.addEvent({
      summary: 'Dentist — Dr. Private',
      start: { dateTime: slot.start },
      end: { dateTime: slot.end },
    });
    const items = await waitFor(async () => {
      const res = await f.api(
        'GET',
        `/api/v1/calendar/busy?${range(slot.start, 1)}&resource_id=${f.resourceId}`,
      );
      const listed = (res.body as { items: Array<Record<string, unknown>> }).items;
      return listed.length > 0 ? listed : null;
    }, 10_000);
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0] ?? {}).sort()).toEqual([
      'calendar_id',
      'end',
      'id',
      'resource_id',
      'source',
      'start',
    ]);
    expect(items[0]).toMatchObject({
      resource_id: f.resourceId,
      source: 'google',
      start: slot.start,
      end: slot.end.replace('.000Z', 'Z'),
    });
    expect(JSON.stringify(items)).not.toContain('Dentist');

    // A second block the same day: two pages of one.
    f.google.addEvent({
      summary: 'Gym',
      start: { dateTime: slot.end },
      end: { dateTime: new Date(Date.parse(slot.end) + 1_800_000).toISOString() },
    });
    type Page = { items: Array<{ start: string }>; next_cursor: string | null };
    const page1 = await waitFor(async () => {
      const res = await f.api('GET', `/api/v1/calendar/busy?${range(slot.start, 1)}&limit=1`);
      const page = res.body as Page;
      return page.next_cursor ? page : null;
    }, 10_000);
    expect(page1.items.map((b) => b.start)).toEqual([slot.start]);
    const page2 = await f.api(
      'GET',
      `/api/v1/calendar/busy?${range(slot.start, 1)}&limit=1&cursor=${page1.next_cursor}`,
    );
    expect((page2.body as Page).items.map((b) => b.start)).toEqual([slot.end.replace('.000Z', 'Z')]);
    expect((page2.body as Page).next_cursor).toBeNull();

    const other = await asOther(`/api/v1/calendar/busy?${range(slot.start, 1)}&resource_id=${f.resourceId}`);
    expect(other.status, other.raw).toBe(200);
    expect((other.body as { items: unknown[] }).items).toEqual([]);
  });
});

describe('the appointment JSON', () => {
  it('needs attention while a busy block overlaps it, with the block’s times; others do not', async () => {
    const slot = await f.freeSlot(5);
    const book = async (start: string) => {
      const held = await f.api('POST', '/api/v1/holds', {
        service_id: f.serviceId,
        resource_id: f.resourceId,
        start,
      });
      expect(held.status, held.raw).toBe(201);
      const confirmed = await f.api('POST', `/api/v1/holds/${(held.body as { id: string }).id}/confirm`, {});
      expect(confirmed.status, confirmed.raw).toBe(201);
      return confirmed.body as { id: string; needs_attention: boolean; calendar_conflicts: unknown[] };
    };
    const booked = await book(slot.start);
    expect(booked.needs_attention).toBe(false);
    expect(booked.calendar_conflicts).toEqual([]);
    const untouched = await book(slot.end);

    // The owner's dentist appointment: the second half of the first booking, up to the second.
    const busyStart = new Date(Date.parse(slot.start) + 30 * 60_000).toISOString().replace('.000Z', 'Z');
    const clearEnd = slot.end.replace('.000Z', 'Z');
    const dentist = f.google.addEvent({
      summary: 'Dentist',
      start: { dateTime: busyStart },
      end: { dateTime: clearEnd },
    });

    type Listed = { id: string; needs_attention: boolean; calendar_conflicts: Array<{ busy: unknown }> };
    const items = await waitFor(async () => {
      const res = await f.api('GET', `/api/v1/appointments?${range(slot.start, 1)}`);
      const listed = (res.body as { items: Listed[] }).items;
      return listed.find((a) => a.id === booked.id)?.needs_attention ? listed : null;
    }, 10_000);
    expect(items.find((a) => a.id === booked.id)?.calendar_conflicts).toEqual([
      { id: expect.any(String), busy: { start: busyStart, end: clearEnd }, detected_at: expect.any(String) },
    ]);
    expect(items.find((a) => a.id === untouched.id)).toMatchObject({
      needs_attention: false,
      calendar_conflicts: [],
    });

    // The owner moves the dentist to the evening: the conflict is settled, the mark goes.
    f.google.updateEvent(dentist.id, {
      start: { dateTime: new Date(Date.parse(slot.start) - 6 * 3_600_000).toISOString() },
      end: { dateTime: new Date(Date.parse(slot.start) - 5 * 3_600_000).toISOString() },
    });
    await waitFor(async () => {
      const res = await f.api('GET', `/api/v1/appointments?${range(slot.start, 1)}`);
      const listed = (res.body as { items: Listed[] }).items;
      return listed.find((a) => a.id === booked.id)?.needs_attention === false;
    }, 10_000);
    const conflicts = await f.api('GET', '/api/v1/calendar/conflicts');
    expect(
      (conflicts.body as { items: Array<{ appointment_id: string }> }).items.map((c) => c.appointment_id),
    ).not.toContain(booked.id);
    // Back over the booking: needs attention again (the same event, a new overlap).
    f.google.updateEvent(dentist.id, { start: { dateTime: busyStart }, end: { dateTime: clearEnd } });
    await waitFor(async () => {
      const res = await f.api('GET', `/api/v1/appointments?${range(slot.start, 1)}`);
      const listed = (res.body as { items: Listed[] }).items;
      return listed.find((a) => a.id === booked.id)?.needs_attention === true;
    }, 10_000);

    // Cancelled: nothing left to attend to.
    const cancelled = await f.api('POST', `/api/v1/appointments/${booked.id}/cancel`, {});
    expect(cancelled.status, cancelled.raw).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', needs_attention: false });
  });
});

describe('the calendar conflict alert', () => {
  it("names both times on the business's clock: the appointment's and the busy block's", async () => {
    const slot = await f.freeSlot(6);
    const conversationId = await startConversation(f.t.system, f.t.demo.id, '+13105550191');
    const held = await f.api('POST', '/api/v1/holds', {
      service_id: f.serviceId,
      resource_id: f.resourceId,
      start: slot.start,
      conversation_id: conversationId,
    });
    expect(held.status, held.raw).toBe(201);
    const confirmed = await f.api('POST', `/api/v1/holds/${(held.body as { id: string }).id}/confirm`, {});
    expect(confirmed.status, confirmed.raw).toBe(201);

    const busyStart = new Date(Date.parse(slot.start) + 30 * 60_000).toISOString();
    const busyEnd = new Date(Date.parse(slot.start) + 120 * 60_000).toISOString();
    f.google.addEvent({ summary: 'Dentist', start: { dateTime: busyStart }, end: { dateTime: busyEnd } });
    const body = await waitFor(async () => {
      const { rows } = await f.t.system.db.query<{ body: string }>(
        `SELECT t.body FROM conv_alert_texts t JOIN conv_alerts a ON a.tenant_id = t.tenant_id AND a.id = t.alert_id
         WHERE a.tenant_id = $1 AND a.conversation_id = $2 AND a.reason = 'calendar_conflict'`,
        [f.t.demo.id, conversationId],
      );
      return rows[0]?.body;
    }, 10_000);
    const words = { timeZone: f.t.demo.time_zone, now: new Date().toISOString() };
    expect(body).toContain(
      `A booked appointment (${formatSpanForSms(slot.start, slot.end, words)}) now overlaps something in the owner's calendar (${formatSpanForSms(busyStart, busyEnd, words)})`,
    );
    expect(body).not.toContain('Dentist');
  });
});
