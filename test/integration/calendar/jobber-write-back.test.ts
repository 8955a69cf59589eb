import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUR_MARKER } from '../../../src/domain/calendar-busy.ts';
import { listAllConnections } from '../../../src/persistence/repositories/scheduling/calendar-connections.ts';
import { markerOf } from '../../../src/providers/jobber/calendar-provider.ts';
import { openRefreshToken } from '../../../src/runtime/calendar/token-vault.ts';
import { waitFor } from '../../helpers/system.ts';
import { type JobberFixture, startJobberFixture } from './jobber-fixture.ts';

// Our bookings in Jobber: booked → a visit (the service as title, the customer and our ids in its
// instructions), rescheduled → the same visit moved, cancelled → the visit deleted; our visits
// are never mirrored back as busy; a retried insert finds its visit instead of adding another; a
// Jobber APP_DISCONNECT marks the connection for the owner to reconnect.

let f: JobberFixture;
let calendarId: string;
let connectionId: string;

beforeAll(async () => {
  f = await startJobberFixture();
  ({ calendarId, connectionId } = await f.connect());
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
  f.jobber.visits().find((v) => markerOf(v.instructions)?.[OUR_MARKER] === appointmentId);

async function written(appointmentId: string) {
  const { rows } = await f.t.system.db.query(
    'SELECT external_event_id, state FROM sched_calendar_events WHERE appointment_id = $1',
    [appointmentId],
  );
  return rows[0] as { external_event_id: string; state: string } | undefined;
}

describe('write-back to Jobber', () => {
  let appointment: { id: string; start: string; end: string };
  let visitId: string;

  it('a confirmed appointment becomes a Jobber visit, with our ids; its id is the one recorded', async () => {
    const slot = await f.freeSlot(3);
    appointment = await book(slot.start);
    const visit = await waitFor(async () => ours(appointment.id), 10_000);
    visitId = visit.id;
    expect(visit.title).toBe('Drain cleaning');
    expect(visit.instructions).toMatch(/Customer: /);
    expect(markerOf(visit.instructions)).toEqual({
      nmc_appointment_id: appointment.id,
      nmc_tenant_id: f.t.demo.id,
    });
    expect(Date.parse(visit.startAt ?? '')).toBe(Date.parse(appointment.start));
    expect(Date.parse(visit.endAt ?? '')).toBe(Date.parse(appointment.end));
    expect(await waitFor(async () => written(appointment.id))).toEqual({
      external_event_id: visit.id,
      state: 'written',
    });
  });

  it('our own visit is not mirrored back as busy', async () => {
    // The visitCreate sent VISIT_CREATE to our webhook; that sync listed the visit and left it out.
    await f.jobber.settle();
    const delivered = f.jobber.deliveries().find((d) => d.itemId === visitId && d.topic === 'VISIT_CREATE');
    expect(delivered?.status).toBe(200);
    await f.idle(calendarId);
    const res = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/backfill`, { days: 30 });
    expect(res.status, res.raw).toBe(200);
    const { rows } = await f.t.system.db.query(
      'SELECT external_id FROM sched_external_busy WHERE calendar_id = $1',
      [calendarId],
    );
    expect(rows.map((r) => r.external_id)).not.toContain(`${calendarId}:${visitId}`);
  });

  it('a reschedule moves the same visit', async () => {
    const later = await f.freeSlot(4);
    const moved = await f.api('POST', `/api/v1/appointments/${appointment.id}/reschedule`, {
      start: later.start,
    });
    expect(moved.status, moved.raw).toBe(200);
    const next = moved.body as { id: string; start: string };
    await waitFor(async () => {
      const visit = f.jobber.visits().find((v) => v.id === visitId);
      return visit && Date.parse(visit.startAt ?? '') === Date.parse(later.start) ? visit : null;
    }, 10_000);
    expect(f.jobber.visits().filter((v) => markerOf(v.instructions))).toHaveLength(1);
    expect((await waitFor(async () => written(next.id)))?.external_event_id).toBe(visitId);
    appointment = { ...appointment, id: next.id, start: next.start };
  });

  it('a cancel deletes the visit', async () => {
    const cancelled = await f.api('POST', `/api/v1/appointments/${appointment.id}/cancel`);
    expect(cancelled.status, cancelled.raw).toBe(200);
    await waitFor(async () => !f.jobber.visits().some((v) => v.id === visitId), 10_000);
    await waitFor(async () => (await written(appointment.id))?.state === 'deleted');
  });

  it('an insert retried after a lost answer finds its visit instead of adding a second', async () => {
    const provider = f.t.system.calendar?.jobber?.provider;
    const connection = (await listAllConnections(f.t.system.db)).find((c) => c.id === connectionId);
    if (!provider || !connection || !f.t.system.calendar) throw new Error('no Jobber connection');
    const token = openRefreshToken(f.t.system.calendar.keyring, connection);
    const start = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const event = {
      id: 'nmc-retry',
      summary: 'Retried',
      description: 'A retried insert',
      start,
      end: new Date(Date.parse(start) + 3_600_000).toISOString(),
      marker: { [OUR_MARKER]: '00000000-0000-4000-8000-00000000abcd' },
    };
    const first = await provider.insertEvent(token, f.jobber.accountId, event);
    const again = await provider.insertEvent(token, f.jobber.accountId, event);
    expect(again.id).toBe(first.id);
    expect(f.jobber.visits().filter((v) => v.title === 'Retried')).toHaveLength(1);
  });
});

describe('disconnect in Jobber', () => {
  it('APP_DISCONNECT marks the connection unauthorized (the owner reconnects)', async () => {
    await f.jobber.settle();
    const delivery = await f.jobber.sendWebhook('APP_DISCONNECT', f.jobber.accountId);
    expect(delivery.status).toBe(200);
    const { rows } = await f.t.system.db.query(
      'SELECT status FROM sched_calendar_connections WHERE id = $1',
      [connectionId],
    );
    expect(rows[0].status).toBe('unauthorized');
  });
});
