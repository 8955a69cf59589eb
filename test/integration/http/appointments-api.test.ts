import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/http/app.ts';
import { appOf, call, errorOf, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// The operator's appointments as a client reads and changes them: each item names its service and
// customer and carries its local time; cancel, reschedule (atomic: the new time or nothing) and
// the outcome; and every change writes its scheduling event with the request's correlation id.

type Appointment = {
  id: string;
  resource_id: string;
  service_id: string;
  start: string;
  end: string;
  status: string;
  service_name: string | null;
  time_zone: string;
  start_local: string;
  end_local: string;
  customer: { phone: string; name: string | null } | null;
};
type Slot = { start: string; end: string; resource_id: string };

let t: TestSystem;
let app: App;
let tech: string;
let serviceId: string;
let serviceName: string;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  tech = await tokenFor(t.system, { subject: 'appointments_tech', role: 'TECH', org: 'org_demo' });
  const services = await call(app, { method: 'GET', url: '/api/v1/services', token: tech });
  const first = (services.body as { items: Array<{ id: string; name: string }> }).items[0];
  if (!first) throw new Error('the demo has no service');
  serviceId = first.id;
  serviceName = first.name;
});
afterAll(async () => {
  await t?.stop();
});

async function openSlots(): Promise<Slot[]> {
  const from = new Date(Date.now() + 2 * 86_400_000).toISOString();
  const to = new Date(Date.now() + 12 * 86_400_000).toISOString();
  const res = await call(app, {
    method: 'GET',
    url: `/api/v1/availability?service_id=${serviceId}&from=${from}&to=${to}`,
    token: tech,
  });
  expect(res.status, res.raw).toBe(200);
  // Open times may overlap (the step is shorter than the service): keep one resource's disjoint ones.
  const items = (res.body as { items: Slot[] }).items;
  const disjoint: Slot[] = [];
  for (const slot of items) {
    const last = disjoint[disjoint.length - 1];
    if (slot.resource_id !== items[0]?.resource_id) continue;
    if (!last || Date.parse(slot.start) >= Date.parse(last.end)) disjoint.push(slot);
  }
  return disjoint;
}

async function book(slot: Slot): Promise<Appointment> {
  const hold = await call(app, {
    method: 'POST',
    url: '/api/v1/holds',
    token: tech,
    body: { service_id: serviceId, resource_id: slot.resource_id, start: slot.start },
  });
  expect(hold.status, hold.raw).toBe(201);
  const confirm = await call(app, {
    method: 'POST',
    url: `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`,
    token: tech,
  });
  expect(confirm.status, confirm.raw).toBe(201);
  return confirm.body as Appointment;
}

const post = (url: string, body: unknown, correlation?: string) =>
  call(app, {
    method: 'POST',
    url,
    token: tech,
    body,
    ...(correlation ? { headers: { 'x-correlation-id': correlation } } : {}),
  });

async function eventsOf(appointmentId: string) {
  const { rows } = await t.system.db.query<{ event_name: string; correlation_id: string; payload: unknown }>(
    `SELECT event_name, correlation_id, payload FROM outbox_events
     WHERE tenant_id = $1 AND event_name LIKE 'nmc.scheduling.%' AND payload->>'appointment_id' = $2
     ORDER BY occurred_at, event_name`,
    [t.demo.id, appointmentId],
  );
  return rows;
}

describe('an appointment as the operator reads it', () => {
  it("names its service and carries its local start and end in the tenant's zone", async () => {
    const [slot] = await openSlots();
    if (!slot) throw new Error('no open slot');
    const booked = await book(slot);
    expect(booked.service_name).toBe(serviceName);
    expect(booked.time_zone).toBe(t.demo.time_zone);
    expect(Date.parse(booked.start_local)).toBe(Date.parse(booked.start));
    expect(Date.parse(booked.end_local)).toBe(Date.parse(booked.end));
    const wall = new Intl.DateTimeFormat('sv-SE', {
      timeZone: t.demo.time_zone,
      dateStyle: 'short',
      timeStyle: 'short',
    }).format(new Date(booked.start));
    expect(booked.start_local.slice(0, 16).replace('T', ' ')).toBe(wall);

    const day = booked.start_local.slice(0, 10);
    const listed = await call(app, {
      method: 'GET',
      url: `/api/v1/appointments?from=${day}&to=${day}`,
      token: tech,
    });
    const item = (listed.body as { items: Appointment[] }).items.find((a) => a.id === booked.id);
    expect(item).toMatchObject({
      service_name: serviceName,
      start_local: booked.start_local,
      status: 'confirmed',
    });
  });
});

describe('rescheduling', () => {
  it('moves the appointment to a free time: a new confirmed appointment, the old one cancelled', async () => {
    const slots = await openSlots();
    const [from, to] = [slots[3], slots[8]];
    if (!from || !to) throw new Error('not enough open slots');
    const booked = await book(from);
    const correlation = 'reschedule-test-0001';
    const res = await post(`/api/v1/appointments/${booked.id}/reschedule`, { start: to.start }, correlation);
    expect(res.status, res.raw).toBe(200);
    const moved = res.body as Appointment;
    expect(moved).toMatchObject({ start: to.start.replace('.000', ''), status: 'confirmed' });
    expect(moved.id).not.toBe(booked.id);

    const listed = await call(app, {
      method: 'GET',
      url: `/api/v1/appointments?from=${from.start}&to=${new Date(Date.parse(to.start) + 1).toISOString()}&include_cancelled=true&limit=200`,
      token: tech,
    });
    const byId = new Map((listed.body as { items: Appointment[] }).items.map((a) => [a.id, a.status]));
    expect(byId.get(booked.id)).toBe('cancelled');
    expect(byId.get(moved.id)).toBe('confirmed');

    const events = await eventsOf(moved.id);
    expect(events).toEqual([
      {
        event_name: 'nmc.scheduling.AppointmentRescheduled',
        correlation_id: correlation,
        payload: expect.objectContaining({ previous_id: booked.id, start: moved.start }),
      },
    ]);
  });

  it('to a time that is taken: 409, and the appointment stands unchanged', async () => {
    const slots = await openSlots();
    const [mine, theirs] = [slots[12], slots[13]];
    if (!mine || !theirs) throw new Error('not enough open slots');
    const booked = await book(mine);
    await book(theirs);
    const res = await post(`/api/v1/appointments/${booked.id}/reschedule`, { start: theirs.start });
    expect(res.status, res.raw).toBe(409);
    expect(errorOf(res).code).toBe('conflict');
    const { rows } = await t.system.db.query<{ status: string; start: Date }>(
      'SELECT status, lower(timeslot) AS start FROM sched_reservations WHERE tenant_id = $1 AND id = $2',
      [t.demo.id, booked.id],
    );
    expect(rows[0]?.status).toBe('live');
    expect(rows[0]?.start.toISOString()).toBe(new Date(mine.start).toISOString());
    expect(await eventsOf(booked.id)).toHaveLength(1); // booked, nothing else
  });

  it('two appointments moved to the same free time at once: exactly one gets it', async () => {
    const slots = await openSlots();
    const [a, b, target] = [slots[16], slots[17], slots[20]];
    if (!a || !b || !target) throw new Error('not enough open slots');
    const [first, second] = [await book(a), await book(b)];
    const results = await Promise.all(
      [first, second].map((appt) =>
        post(`/api/v1/appointments/${appt.id}/reschedule`, { start: target.start }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const { rows } = await t.system.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sched_reservations
       WHERE tenant_id = $1 AND status = 'live' AND lower(timeslot) = $2::timestamptz`,
      [t.demo.id, target.start],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('refuses a start that is not an instant, and an unknown appointment', async () => {
    const bad = await post('/api/v1/appointments/00000000-0000-4000-8000-000000000000/reschedule', {
      start: 'tomorrow',
    });
    expect(bad.status).toBe(400);
    const [slot] = await openSlots();
    const unknown = await post('/api/v1/appointments/00000000-0000-4000-8000-000000000000/reschedule', {
      start: slot?.start,
    });
    expect(unknown.status).toBe(404);
  });
});

describe('cancel and outcome', () => {
  it('cancel writes one event however often it is asked; the outcome of a future appointment is 409', async () => {
    const slots = await openSlots();
    const booked = await book(slots[24] as Slot);
    const outcome = await post(`/api/v1/appointments/${booked.id}/outcome`, { outcome: 'no_show' });
    expect(outcome.status, outcome.raw).toBe(409);
    expect(errorOf(outcome).message).toMatch(/started/);
    const wrong = await post(`/api/v1/appointments/${booked.id}/outcome`, { outcome: 'maybe' });
    expect(wrong.status).toBe(400);

    for (let i = 0; i < 2; i++) {
      const cancel = await post(`/api/v1/appointments/${booked.id}/cancel`, undefined);
      expect(cancel.status, cancel.raw).toBe(200);
      expect((cancel.body as Appointment).status).toBe('cancelled');
    }
    expect((await eventsOf(booked.id)).map((e) => e.event_name)).toEqual([
      'nmc.scheduling.AppointmentBooked',
      'nmc.scheduling.AppointmentCancelled',
    ]);
    const late = await post(`/api/v1/appointments/${booked.id}/reschedule`, { start: slots[25]?.start });
    expect(late.status).toBe(409);
  });
});
