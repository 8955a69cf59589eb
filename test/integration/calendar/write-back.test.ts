import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, parseKeyring } from '../../../src/domain/token-encryption.ts';
import { inTransaction } from '../../../src/persistence/db.ts';
import { listAllConnections } from '../../../src/persistence/repositories/scheduling/calendar-connections.ts';
import {
  countMirror,
  purgeEndedMirrorBlocks,
  upsertMirrorBlocks,
} from '../../../src/persistence/repositories/scheduling/calendar-mirror.ts';
import { calendarDriftCheck } from '../../../src/runtime/calendar/calendar-drift-check.ts';
import { openRefreshToken, rotateTokens } from '../../../src/runtime/calendar/token-vault.ts';
import { eventIdFor } from '../../../src/runtime/calendar/write-back.ts';
import type { ScanContext } from '../../../src/runtime/provisioning/reconcile.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import { startConversation } from '../../helpers/operator-api.ts';
import { waitFor } from '../../helpers/system.ts';
import { type CalendarFixture, startCalendarFixture } from './calendar-fixture.ts';

// Our bookings in the owner's Google Calendar: booked → inserted (the service as title, the
// customer in the description, our ids in extendedProperties.private), rescheduled → the same
// event moved, cancelled → deleted; never mirrored back as busy; retried through provider faults.
// A busy block that arrives after a booking and overlaps it raises "needs attention" and cancels
// nothing. And the sealed refresh token: rotation re-seals it under the new key.

const K1 = generateKey('k1');
let f: CalendarFixture;
let calendarId: string;

beforeAll(async () => {
  f = await startCalendarFixture({ NMC_ENCRYPTION_KEY: K1 });
  calendarId = (await f.connect()).calendarId;
});
afterAll(async () => {
  await f?.stop();
});

async function book(start: string): Promise<{ id: string; start: string; end: string }> {
  const hold = await f.api('POST', '/api/v1/holds', {
    service_id: f.serviceId,
    resource_id: f.resourceId,
    start,
  });
  expect(hold.status, hold.raw).toBe(201);
  const confirmed = await f.api('POST', `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`);
  expect(confirmed.status, confirmed.raw).toBeLessThan(300);
  return confirmed.body as { id: string; start: string; end: string };
}

const ours = (appointmentId: string) =>
  f.google.events().find((e) => e.extendedProperties?.private?.nmc_appointment_id === appointmentId);

describe('write-back', () => {
  let appointment: { id: string; start: string; end: string };
  let eventId: string;

  it('a confirmed appointment appears in the booking calendar, with our ids', async () => {
    const slot = await f.freeSlot(3);
    appointment = await book(slot.start);
    const event = await waitFor(async () => ours(appointment.id));
    eventId = event.id;
    expect(event.id).toBe(eventIdFor(appointment.id));
    expect(event.summary).toBe('Drain cleaning');
    expect(event.description).toContain(appointment.id);
    expect(event.description).toMatch(/Customer: /);
    expect(Date.parse(event.start.dateTime ?? '')).toBe(Date.parse(appointment.start));
    expect(Date.parse(event.end.dateTime ?? '')).toBe(Date.parse(appointment.end));
    expect(event.transparency).toBe('opaque');
    expect(event.extendedProperties?.private).toMatchObject({
      nmc_appointment_id: appointment.id,
      nmc_tenant_id: f.t.demo.id,
    });
  });

  it('our own event is not mirrored back as busy', async () => {
    // Our insert pushed to our channel; that sync saw the event and left it out.
    await f.google.settle();
    await waitFor(async () => {
      const state = await f.calendarState();
      return state &&
        Date.parse(state.last_synced_at ?? '') >= Date.parse(ours(appointment.id)?.updated ?? '')
        ? state
        : null;
    });
    const { rows } = await f.t.system.db.query(
      'SELECT external_id FROM sched_external_busy WHERE calendar_id = $1',
      [calendarId],
    );
    expect(rows.map((r) => r.external_id)).not.toContain(`${calendarId}:${eventId}`);
    // And cancelling the appointment frees the time: nothing of ours was left blocking it.
  });

  it('a reschedule moves the same event', async () => {
    const later = await f.freeSlot(4);
    const moved = await f.api('POST', `/api/v1/appointments/${appointment.id}/reschedule`, {
      start: later.start,
    });
    expect(moved.status, moved.raw).toBe(200);
    const next = moved.body as { id: string; start: string };
    await waitFor(async () => {
      const event = f.google.events().find((e) => e.id === eventId);
      return event && Date.parse(event.start.dateTime ?? '') === Date.parse(later.start) ? event : null;
    });
    expect(ours(next.id)?.id).toBe(eventId);
    expect(
      f.google
        .events()
        .filter((e) => e.extendedProperties?.private?.nmc_appointment_id && e.status !== 'cancelled'),
    ).toHaveLength(1);
    appointment = { ...appointment, id: next.id, start: next.start };
  });

  it('a cancel deletes it', async () => {
    const cancelled = await f.api('POST', `/api/v1/appointments/${appointment.id}/cancel`);
    expect(cancelled.status, cancelled.raw).toBe(200);
    await waitFor(async () => f.google.events().find((e) => e.id === eventId)?.status === 'cancelled');
    await waitFor(async () => {
      const { rows } = await f.t.system.db.query(
        'SELECT state FROM sched_calendar_events WHERE appointment_id = $1',
        [appointment.id],
      );
      return rows[0]?.state === 'deleted';
    });
  });

  it('retries through provider failures without touching the booking', async () => {
    f.google.failNext(2, { status: 503 });
    const slot = await f.freeSlot(5);
    const booked = await book(slot.start);
    expect(booked.id).toBeTruthy();
    await waitFor(async () => ours(booked.id), 10_000);
    expect(f.google.requests().filter((r) => r.status === 503).length).toBe(2);
  });
});

describe('conflicts', () => {
  it('a busy block arriving after a booking overlaps it: needs attention, both times shown, nothing cancelled', async () => {
    const slot = await f.freeSlot(6);
    const conversationId = await startConversation(f.t.system, f.t.demo.id, '+13105550190');
    const appointment = await inTransaction(f.t.system.db, async (client) => {
      const hold = await placeHold(client, {
        tenantId: f.t.demo.id,
        serviceId: f.serviceId,
        resourceId: f.resourceId,
        start: slot.start,
        now: new Date().toISOString(),
        holdTtlMinutes: 15,
        conversationId,
        boss: f.t.system.boss,
      });
      return confirmHold(client, { tenantId: f.t.demo.id, holdId: hold.id, now: new Date().toISOString() });
    });
    // The owner adds a dentist appointment half an hour into the booking.
    const busyStart = new Date(Date.parse(slot.start) + 30 * 60_000).toISOString();
    const busyEnd = new Date(Date.parse(slot.start) + 90 * 60_000).toISOString();
    f.google.addEvent({ summary: 'Dentist', start: { dateTime: busyStart }, end: { dateTime: busyEnd } });
    const conflicts = await waitFor(async () => {
      const res = await f.api('GET', '/api/v1/calendar/conflicts');
      const items = (res.body as { items: Array<{ appointment_id: string }> }).items;
      return items.some((i) => i.appointment_id === appointment.id) ? items : null;
    });
    expect(conflicts.find((c) => c.appointment_id === appointment.id)).toMatchObject({
      appointment: { start: slot.start, end: slot.end.replace('.000Z', 'Z') },
      busy: { start: busyStart.replace('.000Z', 'Z'), end: busyEnd.replace('.000Z', 'Z') },
    });
    const alert = await waitFor(async () => {
      const { rows } = await f.t.system.db.query(
        "SELECT reason FROM conv_alerts WHERE tenant_id = $1 AND conversation_id = $2 AND reason = 'calendar_conflict'",
        [f.t.demo.id, conversationId],
      );
      return rows[0];
    });
    expect(alert).toEqual({ reason: 'calendar_conflict' });
    const { rows } = await f.t.system.db.query('SELECT status FROM sched_reservations WHERE id = $1', [
      appointment.id,
    ]);
    expect(rows).toEqual([{ status: 'live' }]);
    // The same block seen again (a resync) raises nothing new.
    const again = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/backfill`, { days: 30 });
    expect(again.status, again.raw).toBe(200);
    const count = await f.t.system.db.query(
      'SELECT count(*)::int AS n FROM sched_calendar_conflicts WHERE appointment_id = $1',
      [appointment.id],
    );
    expect(count.rows[0].n).toBe(1);
  });
});

describe('ended busy time', () => {
  it('is purged a week after it ended; what is ahead stays', async () => {
    const day = 86_400_000;
    const now = Date.now();
    await upsertMirrorBlocks(f.t.system.db, {
      tenantId: f.t.demo.id,
      resourceId: f.resourceId,
      calendarId,
      source: 'google',
      blocks: [
        { eventId: 'long-gone', start: now - 9 * day, end: now - 8 * day },
        { eventId: 'yesterday', start: now - 1 * day - 3_600_000, end: now - 1 * day },
      ],
    });
    const before = await countMirror(f.t.system.db, f.t.demo.id, calendarId);
    expect(await purgeEndedMirrorBlocks(f.t.system.db, new Date(now - 7 * day).toISOString())).toBe(1);
    expect(await countMirror(f.t.system.db, f.t.demo.id, calendarId)).toBe(before - 1);
  });
});

describe('backfill', () => {
  it('replaces the mirror within its window and keeps busy time beyond it', async () => {
    const day = 86_400_000;
    const mirrored = async (eventId: string) =>
      (
        await f.t.system.db.query('SELECT 1 FROM sched_external_busy WHERE external_id = $1', [
          `${calendarId}:${eventId}`,
        ])
      ).rowCount === 1;
    const far = f.google.addEvent({
      summary: 'Trip',
      start: { dateTime: new Date(Date.now() + 40 * day).toISOString() },
      end: { dateTime: new Date(Date.now() + 41 * day).toISOString() },
    });
    await waitFor(() => mirrored(far.id));
    // A change inside the window whose push was lost: the backfill finds it.
    f.google.dropNextPushes(1);
    const near = f.google.addEvent({
      start: { dateTime: new Date(Date.now() + 3 * day).toISOString() },
      end: { dateTime: new Date(Date.now() + 3 * day + 3_600_000).toISOString() },
    });
    await f.google.settle();
    expect(await mirrored(near.id)).toBe(false);
    const res = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/backfill`, { days: 7 });
    expect(res.status, res.raw).toBe(200);
    expect(await mirrored(near.id)).toBe(true);
    expect(await mirrored(far.id)).toBe(true);
  });
});

describe("reconciliation's drift report", () => {
  it('finds a calendar without a live channel and a mirror that misses a change; repairs both', async () => {
    const calendar = f.t.system.calendar;
    if (!calendar) throw new Error('no calendar runtime');
    const check = calendarDriftCheck(calendar, { days: 30 });
    const ctx = { tenantId: f.t.demo.id } as ScanContext;
    expect(await check.scan(ctx)).toEqual([]);
    // A lost push, and a channel that died.
    f.google.dropNextPushes(1);
    const missed = f.google.addEvent({
      start: { dateTime: new Date(Date.now() + 5 * 86_400_000).toISOString() },
      end: { dateTime: new Date(Date.now() + 5 * 86_400_000 + 3_600_000).toISOString() },
    });
    await f.google.settle();
    await f.t.system.db.query(
      "UPDATE sched_calendar_links SET channel_expires_at = now() - interval '1 minute' WHERE id = $1",
      [calendarId],
    );
    const findings = await check.scan(ctx);
    expect(findings.map((x) => [x.kind, x.subject])).toEqual([
      ['calendar_channel', calendarId],
      ['calendar_mirror', calendarId],
    ]);
    expect(findings[1]?.actual).toMatchObject({ drift: { missing: 1, extra: 0, moved: 0 } });
    for (const finding of findings) await finding.repair();
    expect(await check.scan(ctx)).toEqual([]);
    const { rowCount } = await f.t.system.db.query(
      'SELECT 1 FROM sched_external_busy WHERE external_id = $1',
      [`${calendarId}:${missed.id}`],
    );
    expect(rowCount).toBe(1);
  });
});

// Last: the system's own keyring cannot open the tokens once they are re-sealed under k2.
describe('the sealed token', () => {
  it('rotation re-seals every token under the new key; the old key alone no longer opens them', async () => {
    const [before] = await listAllConnections(f.t.system.db);
    if (!before) throw new Error('no connection');
    expect(before.token_key_id).toBe('k1');
    const k2 = generateKey('k2');
    const rotated = parseKeyring(`${k2},${K1}`);
    expect(await rotateTokens(f.t.system.db, rotated)).toEqual({ rotated: 1, unreadable: 0 });
    expect(await rotateTokens(f.t.system.db, rotated)).toEqual({ rotated: 0, unreadable: 0 });
    // A keyring without the key that sealed them cannot re-seal them: counted, left alone.
    expect(await rotateTokens(f.t.system.db, parseKeyring(generateKey('k3')))).toEqual({
      rotated: 0,
      unreadable: 1,
    });
    const [after] = await listAllConnections(f.t.system.db);
    if (!after) throw new Error('no connection');
    expect(after.token_key_id).toBe('k2');
    expect(after.token_ciphertext.equals(before.token_ciphertext)).toBe(false);
    expect(f.google.liveRefreshTokens()).toContain(openRefreshToken(parseKeyring(k2), after));
    expect(() => openRefreshToken(parseKeyring(K1), after)).toThrow();
  });
});
