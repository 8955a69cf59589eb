import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/domain/errors.ts';
import { searchSlots } from '../../../src/domain/slot-search.ts';
import { inTransaction, type PoolClient } from '../../../src/persistence/db.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { findReservation } from '../../../src/persistence/repositories/scheduling/holds.ts';
import { createResource } from '../../../src/persistence/repositories/scheduling/resources.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { findOpenTimes } from '../../../src/runtime/scheduling/find-availability.ts';
import { moveAppointment } from '../../../src/runtime/scheduling/move-appointment.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import type { SchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startBossForTests } from '../../helpers/engine.ts';

// The booking dialogue's runtime against real Postgres: the slot search for an asked time (weekdays
// 08:00–17:00 in Los Angeles, closed at weekends) and the atomic move of an appointment, including a
// concurrent attempt to take the new time.

const TZ = 'America/Los_Angeles';
const DAY_HOURS = [{ start: '08:00', end: '17:00' }];
const WEEKDAYS = { '1': DAY_HOURS, '2': DAY_HOURS, '3': DAY_HOURS, '4': DAY_HOURS, '5': DAY_HOURS };
const SETTINGS: SchedulingSettings = {
  slot_granularity_minutes: 60,
  min_notice_minutes: 60,
  buffer_minutes: 0,
  horizon_days: 14,
  allow_same_day: true,
  hold_ttl_minutes: 15,
};
// Thu 2030-01-03 07:00 in Los Angeles (PST, UTC−8).
const NOW = '2030-01-03T15:00:00.000Z';
const local = (date: string, hhmm: string) =>
  new Date(`${date}T${hhmm}:00-08:00`).toISOString().replace('.000Z', 'Z');

let database: TestDatabase;
let boss: PgBoss;

type Fixture = { tenantId: string; serviceId: string; resourceId: string };

async function seed(): Promise<Fixture> {
  const tenantId = randomUUID();
  const slug = `move-${tenantId.slice(0, 8)}`;
  await database.pool.query('INSERT INTO id_tenants (id, slug, name, time_zone) VALUES ($1, $2, $3, $4)', [
    tenantId,
    slug,
    slug,
    TZ,
  ]);
  const service = await createService(database.pool, tenantId, {
    name: 'Drain cleaning',
    duration_minutes: 60,
    price: { amount_cents: 14_900, currency: 'USD' },
  });
  const resource = await createResource(database.pool, tenantId, {
    name: 'Alex',
    time_zone: TZ,
    weekly_hours: WEEKDAYS,
  });
  return { tenantId, serviceId: service.id, resourceId: resource.id };
}

function tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(database.pool, fn);
}

async function book(f: Fixture, start: string): Promise<string> {
  return tx(async (client) => {
    const hold = await placeHold(client, {
      tenantId: f.tenantId,
      serviceId: f.serviceId,
      resourceId: f.resourceId,
      start,
      now: NOW,
      holdTtlMinutes: 15,
      boss,
      settings: SETTINGS,
    });
    return (await confirmHold(client, { tenantId: f.tenantId, holdId: hold.id, now: NOW })).id;
  });
}

async function search(f: Fixture, ask: Parameters<typeof searchSlots>[0]['search']) {
  const times = await findOpenTimes(database.pool, {
    tenantId: f.tenantId,
    serviceId: f.serviceId,
    now: NOW,
    timeZone: TZ,
    settings: SETTINGS,
  });
  return searchSlots({ ...times, search: ask, timeZone: TZ, count: 3 });
}

const ask = (patch: Record<string, unknown>) => ({
  kind: 'ask' as const,
  ask: { date: null, until: null, at: null, after: null, before: null, partOfDay: null, ...patch },
});

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startBossForTests(database.url);
});
afterAll(async () => {
  await boss?.stop({ graceful: false });
  await database?.drop();
});

describe('slot search for an asked time', () => {
  it('holds an open asked time exactly; a booked one gets the nearest that day and the next', async () => {
    const f = await seed();
    const open = await search(f, ask({ date: '2030-01-04', at: '15:00' }));
    expect(open).toEqual({
      outcome: 'exact',
      slots: [expect.objectContaining({ start: local('2030-01-04', '15:00') })],
      closedDate: null,
    });
    await book(f, local('2030-01-04', '15:00'));
    const taken = await search(f, ask({ date: '2030-01-04', at: '15:00' }));
    expect(taken.outcome).toBe('nearest');
    expect(taken.slots.map((s) => s.start)).toEqual([
      // Friday's two nearest, and the nearest of the next open day (Monday: the weekend is closed).
      local('2030-01-04', '14:00'),
      local('2030-01-04', '16:00'),
      local('2030-01-07', '15:00'),
    ]);
  });

  it('says a closed day is closed and offers the next open day', async () => {
    const f = await seed();
    const saturday = await search(f, ask({ date: '2030-01-05' }));
    expect(saturday.outcome).toBe('closed');
    expect(saturday.closedDate).toBe('2030-01-05');
    expect(saturday.slots.length).toBe(3);
    for (const slot of saturday.slots)
      expect(DateTime.fromISO(slot.start, { zone: TZ }).toISODate()).toBe('2030-01-07');
  });

  it('fits "after 2" and "morning" and offers the next three after a rejected offer', async () => {
    const f = await seed();
    const after2 = await search(f, ask({ date: '2030-01-04', after: '14:00' }));
    expect(after2.outcome).toBe('matching');
    for (const slot of after2.slots)
      expect(Date.parse(slot.start)).toBeGreaterThanOrEqual(Date.parse(local('2030-01-04', '14:00')));
    const morning = await search(f, ask({ date: '2030-01-07', partOfDay: 'morning' }));
    for (const slot of morning.slots)
      expect(Date.parse(slot.start)).toBeLessThan(Date.parse(local('2030-01-07', '12:00')));
    const next = await search(f, { kind: 'after', after: local('2030-01-07', '16:00') });
    expect(next.outcome).toBe('next');
    for (const slot of next.slots)
      expect(Date.parse(slot.start)).toBeGreaterThan(Date.parse(local('2030-01-07', '16:00')));
  });
});

describe('moving an appointment', () => {
  it('moves atomically, even onto an overlapping time of its own resource', async () => {
    const f = await seed();
    const id = await book(f, local('2030-01-07', '10:00'));
    const moved = await tx((client) =>
      moveAppointment(client, {
        tenantId: f.tenantId,
        appointmentId: id,
        resourceId: f.resourceId,
        start: local('2030-01-07', '10:30'),
        now: NOW,
        settings: { ...SETTINGS, slot_granularity_minutes: 30 },
      }),
    );
    expect(moved.previous).toMatchObject({ id, status: 'cancelled' });
    expect(moved.appointment).toMatchObject({ status: 'confirmed', start: local('2030-01-07', '10:30') });
  });

  it('leaves the old appointment untouched when the new time is taken', async () => {
    const f = await seed();
    const id = await book(f, local('2030-01-07', '10:00'));
    await book(f, local('2030-01-08', '10:00'));
    const result = await tx(async (client) => {
      const outcome = await moveAppointment(client, {
        tenantId: f.tenantId,
        appointmentId: id,
        resourceId: f.resourceId,
        start: local('2030-01-08', '10:00'),
        now: NOW,
        settings: SETTINGS,
      }).catch((err: unknown) => err);
      // The transaction is still usable after the failed move.
      await client.query('SELECT 1');
      return outcome;
    });
    expect(result).toBeInstanceOf(AppError);
    expect((result as AppError).code).toBe('conflict');
    expect(await findReservation(database.pool, f.tenantId, id)).toMatchObject({ status: 'live' });
  });

  it('a move and a hold racing for one time: exactly one wins, the loser fails cleanly', async () => {
    for (let round = 0; round < 5; round++) {
      const f = await seed();
      const id = await book(f, local('2030-01-07', '09:00'));
      const target = local('2030-01-09', '11:00');
      const results = await Promise.allSettled([
        tx((client) =>
          moveAppointment(client, {
            tenantId: f.tenantId,
            appointmentId: id,
            resourceId: f.resourceId,
            start: target,
            now: NOW,
            settings: SETTINGS,
          }),
        ),
        tx((client) =>
          placeHold(client, {
            tenantId: f.tenantId,
            serviceId: f.serviceId,
            resourceId: f.resourceId,
            start: target,
            now: NOW,
            holdTtlMinutes: 15,
            boss,
            settings: SETTINGS,
          }),
        ),
      ]);
      const outcomes = results.map((r) =>
        r.status === 'fulfilled' ? 'ok' : r.reason instanceof AppError ? r.reason.code : String(r.reason),
      );
      expect(outcomes.sort()).toEqual(['conflict', 'ok']);
      const { rows } = await database.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sched_reservations
         WHERE tenant_id = $1 AND status = 'live' AND timeslot && tstzrange($2, $3, '[)')`,
        [f.tenantId, target, local('2030-01-09', '12:00')],
      );
      expect(rows[0]?.n).toBe(1);
      const old = await findReservation(database.pool, f.tenantId, id);
      // The old appointment is live exactly when the move lost.
      expect(old?.status).toBe(results[0].status === 'fulfilled' ? 'cancelled' : 'live');
    }
  });
});
