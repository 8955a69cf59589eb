import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/domain/errors.ts';
import { inTransaction, type PoolClient } from '../../../src/persistence/db.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { findReservation } from '../../../src/persistence/repositories/scheduling/holds.ts';
import { createResource } from '../../../src/persistence/repositories/scheduling/resources.ts';
import { cancelAppointment } from '../../../src/runtime/scheduling/cancel-appointment.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { expireHold } from '../../../src/runtime/scheduling/expire-hold.ts';
import { type PlaceHoldInput, placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import { releaseHold } from '../../../src/runtime/scheduling/release-hold.ts';
import type { SchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startBossForTests } from '../../helpers/engine.ts';
import { waitFor } from '../../helpers/system.ts';

// Holds and appointments against real Postgres: the exclusion constraint under concurrency, expired
// holds that block nothing without their job, confirmation that never frees the slot, conversion of
// expired holds, tenant isolation, and a randomized run checked by one SQL query at the end.

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const TTL = 15;
// Every day open around the clock in UTC, so any 30-minute-aligned start in the horizon is bookable.
const ALL_DAY = [{ start: '00:00', end: '24:00' }];
const ALWAYS_OPEN = {
  '1': ALL_DAY,
  '2': ALL_DAY,
  '3': ALL_DAY,
  '4': ALL_DAY,
  '5': ALL_DAY,
  '6': ALL_DAY,
  '7': ALL_DAY,
};
const SETTINGS: SchedulingSettings = {
  slot_granularity_minutes: 30,
  min_notice_minutes: 0,
  buffer_minutes: 0,
  horizon_days: 14,
  allow_same_day: true,
  hold_ttl_minutes: TTL,
};
const BASE = Date.parse('2030-01-07T00:00:00Z'); // a Monday

let database: TestDatabase;
let boss: PgBoss;

function at(ms: number): string {
  return new Date(ms).toISOString();
}

async function seedTenantRow(): Promise<string> {
  const id = randomUUID();
  const slug = `sched-${id.slice(0, 8)}`;
  await database.pool.query(
    "INSERT INTO id_tenants (id, slug, name, time_zone) VALUES ($1, $2, $3, 'America/New_York')",
    [id, slug, `Scheduling ${slug}`],
  );
  return id;
}

type Fixture = {
  tenantId: string;
  serviceId: string;
  resourceIds: string[];
  servicesByDuration: Map<number, string>;
};

async function seedFixture(resources = 1, durations: number[] = [60]): Promise<Fixture> {
  const tenantId = await seedTenantRow();
  const servicesByDuration = new Map<number, string>();
  for (const d of durations) {
    const s = await createService(database.pool, tenantId, {
      name: `Job ${d}`,
      duration_minutes: d,
      price: { amount_cents: 100 * d, currency: 'USD' },
    });
    servicesByDuration.set(d, s.id);
  }
  const resourceIds: string[] = [];
  for (let i = 0; i < resources; i++) {
    const r = await createResource(database.pool, tenantId, {
      name: `Tech ${i}`,
      time_zone: 'UTC',
      weekly_hours: ALWAYS_OPEN,
    });
    resourceIds.push(r.id);
  }
  const serviceId = servicesByDuration.get(durations[0] ?? 60) ?? '';
  return { tenantId, serviceId, resourceIds, servicesByDuration };
}

function holdInput(
  f: Fixture,
  start: string,
  now: string,
  extra: Partial<PlaceHoldInput> = {},
): PlaceHoldInput {
  return {
    tenantId: f.tenantId,
    serviceId: f.serviceId,
    resourceId: f.resourceIds[0] ?? '',
    start,
    now,
    holdTtlMinutes: TTL,
    boss,
    settings: SETTINGS,
    ...extra,
  };
}

function tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(database.pool, fn);
}

function codeOf(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'ok';
  return result.reason instanceof AppError ? result.reason.code : `unexpected: ${String(result.reason)}`;
}

async function liveRowsAt(tenantId: string, resourceId: string, start: string, end: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sched_reservations
     WHERE tenant_id = $1 AND resource_id = $2 AND status = 'live' AND timeslot && tstzrange($3, $4, '[)')`,
    [tenantId, resourceId, start, end],
  );
  return rows[0]?.n ?? -1;
}

const OVERLAPS_SQL = `SELECT count(*)::int AS n FROM sched_reservations a JOIN sched_reservations b
  ON a.tenant_id = b.tenant_id AND a.resource_id = b.resource_id AND a.id < b.id AND a.timeslot && b.timeslot
  WHERE a.status = 'live' AND b.status = 'live'`;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startBossForTests(database.url);
});
afterAll(async () => {
  await boss?.stop({ graceful: false });
  await database?.drop();
});

describe('placeHold', () => {
  it('holds an offered slot and enqueues its expiry job in the same transaction', async () => {
    const f = await seedFixture();
    const now = at(BASE);
    const hold = await tx((c) => placeHold(c, holdInput(f, '2030-01-07T10:00:00.000Z', now)));
    expect(hold).toEqual({
      id: expect.any(String),
      resource_id: f.resourceIds[0],
      start: '2030-01-07T10:00:00Z',
      end: '2030-01-07T11:00:00Z',
      expires_at: '2030-01-07T00:15:00Z',
    });
    const { rows } = await database.pool.query<{ data: unknown; start_after: Date }>(
      "SELECT data, start_after FROM pgboss.job WHERE name = 'hold-expiry' AND data->>'hold_id' = $1",
      [hold.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.data).toEqual({ tenant_id: f.tenantId, hold_id: hold.id });
    expect(rows[0]?.start_after.toISOString()).toBe('2030-01-07T00:15:00.000Z');
  });

  it('refuses a start that availability does not offer, and bad input, without writing', async () => {
    const f = await seedFixture();
    const now = at(BASE);
    const off = (start: string) => tx((c) => placeHold(c, holdInput(f, start, now)));
    await expect(off('2030-01-07T10:10:00Z')).rejects.toMatchObject({ code: 'conflict' }); // off the grid
    await expect(off('2030-01-06T10:00:00Z')).rejects.toMatchObject({ code: 'conflict' }); // in the past
    await expect(off('2030-02-07T10:00:00Z')).rejects.toMatchObject({ code: 'conflict' }); // past horizon
    await expect(off('next tuesday')).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      tx((c) => placeHold(c, holdInput(f, '2030-01-07T10:00:00Z', now, { resourceId: 'nope' }))),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      tx((c) => placeHold(c, holdInput(f, '2030-01-07T10:00:00Z', now, { serviceId: randomUUID() }))),
    ).rejects.toMatchObject({ code: 'not_found' });
    const { rows } = await database.pool.query('SELECT 1 FROM sched_reservations WHERE tenant_id = $1', [
      f.tenantId,
    ]);
    expect(rows).toHaveLength(0);
  });

  it('100 concurrent attempts for one slot: exactly one hold, 99 conflicts, nothing else', async () => {
    const f = await seedFixture();
    const now = at(BASE);
    const start = '2030-01-07T12:00:00Z';
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        tx((c) => placeHold(c, holdInput(f, start, now, { conversationId: randomUUID() }))),
      ),
    );
    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c === 'conflict')).toHaveLength(99);
    expect(await liveRowsAt(f.tenantId, f.resourceIds[0] ?? '', start, '2030-01-07T13:00:00Z')).toBe(1);
  });

  it('an expired hold blocks nothing even though its expiry job never ran', async () => {
    const f = await seedFixture();
    const start = '2030-01-07T14:00:00Z';
    const first = await tx((c) => placeHold(c, holdInput(f, start, at(BASE))));
    // 20 minutes later the first hold (TTL 15) has expired; its job is still waiting in pg-boss.
    const second = await tx((c) => placeHold(c, holdInput(f, start, at(BASE + 20 * MIN))));
    expect(second.start).toBe(first.start);
    const old = await findReservation(database.pool, f.tenantId, first.id);
    expect(old).toMatchObject({ status: 'released', release_reason: 'expired' });
    // An overlapping (not identical) slot is freed the same way.
    const third = await tx((c) => placeHold(c, holdInput(f, '2030-01-07T14:30:00Z', at(BASE + 40 * MIN))));
    expect(third.start).toBe('2030-01-07T14:30:00Z');
  });

  it('maps an exclusion violation to conflict and leaves the caller’s transaction usable', async () => {
    const f = await seedFixture();
    const resourceId = f.resourceIds[0] ?? '';
    const blocker = await database.pool.connect();
    try {
      // An uncommitted appointment the hold's availability read cannot see yet: the insert waits
      // for it, then fails on the constraint.
      await blocker.query('BEGIN');
      const { rows: backend } = await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await blocker.query(
        `INSERT INTO sched_reservations (tenant_id, id, resource_id, service_id, kind, status, timeslot, confirmed_at)
         VALUES ($1, $2, $3, $4, 'appointment', 'live', tstzrange('2030-01-07T16:00Z', '2030-01-07T17:00Z', '[)'), now())`,
        [f.tenantId, randomUUID(), resourceId, f.serviceId],
      );
      const attempt = tx(async (c) => {
        const error = await placeHold(c, holdInput(f, '2030-01-07T16:00:00Z', at(BASE))).catch(
          (e: unknown) => e,
        );
        const { rows } = await c.query<{ one: number }>('SELECT 1 AS one');
        return { error, after: rows[0]?.one };
      });
      // Committed only once the hold's insert waits on the blocker: committed earlier, the hold's
      // availability read would already see the appointment, and the constraint would go untested.
      await waitFor(async () => {
        const { rowCount } = await database.pool.query(
          'SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [backend[0]?.pid],
        );
        return rowCount === 1;
      });
      await blocker.query('COMMIT');
      const { error, after } = await attempt;
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'conflict', message: 'that time is no longer available' });
      expect(after).toBe(1);
    } finally {
      blocker.release();
    }
  });
});

describe('the exclusion constraint', () => {
  it('holds across kinds, and ignores released and cancelled rows', async () => {
    const f = await seedFixture();
    const resourceId = f.resourceIds[0] ?? '';
    const insert = (kind: 'hold' | 'appointment', status: string, from: string, to: string) =>
      database.pool.query(
        `INSERT INTO sched_reservations
           (tenant_id, id, resource_id, service_id, kind, status, timeslot, expires_at, confirmed_at,
            release_reason, released_at, cancelled_at)
         VALUES ($1, $2, $3, $4, $5, $6, tstzrange($7, $8, '[)'),
                 CASE WHEN $5 = 'hold' THEN now() + interval '1 hour' END,
                 CASE WHEN $5 = 'appointment' THEN now() END,
                 CASE WHEN $6 = 'released' THEN 'released' END, CASE WHEN $6 = 'released' THEN now() END,
                 CASE WHEN $6 = 'cancelled' THEN now() END)`,
        [f.tenantId, randomUUID(), resourceId, f.serviceId, kind, status, from, to],
      );
    await insert('appointment', 'live', '2030-01-08T10:00Z', '2030-01-08T11:00Z');
    await expect(insert('hold', 'live', '2030-01-08T10:30Z', '2030-01-08T11:30Z')).rejects.toMatchObject({
      code: '23P01',
    });
    await expect(
      insert('appointment', 'live', '2030-01-08T09:30Z', '2030-01-08T10:01Z'),
    ).rejects.toMatchObject({
      code: '23P01',
    });
    // [10:00, 11:00) and [11:00, 12:00) touch but do not overlap.
    await insert('hold', 'live', '2030-01-08T11:00Z', '2030-01-08T12:00Z');
    await insert('hold', 'released', '2030-01-08T10:00Z', '2030-01-08T11:00Z');
    await insert('appointment', 'cancelled', '2030-01-08T10:00Z', '2030-01-08T11:00Z');
    // A hold placed through the runtime over an appointment: conflict.
    await expect(
      tx((c) => placeHold(c, holdInput(f, '2030-01-08T10:00:00Z', at(BASE)))),
    ).rejects.toMatchObject({ code: 'conflict', message: 'that time is no longer available' });
  });
});

describe('confirmHold', () => {
  it('converts the hold in place: same id, appointment shape, no expiry', async () => {
    const f = await seedFixture();
    const hold = await tx((c) => placeHold(c, holdInput(f, '2030-01-07T18:00:00Z', at(BASE))));
    const appointment = await tx((c) =>
      confirmHold(c, { tenantId: f.tenantId, holdId: hold.id, now: at(BASE + MIN) }),
    );
    expect(appointment).toEqual({
      id: hold.id,
      resource_id: hold.resource_id,
      service_id: f.serviceId,
      start: hold.start,
      end: hold.end,
      status: 'confirmed',
    });
    expect(await findReservation(database.pool, f.tenantId, hold.id)).toMatchObject({
      kind: 'appointment',
      status: 'live',
      expires_at: null,
      confirmed_at: at(BASE + MIN).replace('.000Z', 'Z'),
    });
    // Confirming again returns the same appointment; the expiry job finds nothing to release.
    await expect(
      tx((c) => confirmHold(c, { tenantId: f.tenantId, holdId: hold.id, now: at(BASE + 2 * MIN) })),
    ).resolves.toEqual(appointment);
    await expect(
      tx((c) => expireHold(c, { tenantId: f.tenantId, holdId: hold.id, now: at(BASE + 60 * MIN) })),
    ).resolves.toEqual({ released: false, conversationId: null, pendingUntil: null });
  });

  it('never frees the slot: a placeHold racing each confirm never succeeds (50 rounds)', async () => {
    const f = await seedFixture();
    const now = at(BASE);
    const outcomes: string[] = [];
    for (let round = 0; round < 50; round++) {
      const startMs = Date.parse('2030-01-09T00:00:00Z') + round * 60 * MIN;
      const hold = await tx((c) => placeHold(c, holdInput(f, at(startMs), now)));
      // The rival asks for the same slot, or one overlapping its second half.
      const rivalStart = at(startMs + (round % 2) * 30 * MIN);
      const [confirmed, rival] = await Promise.allSettled([
        tx((c) => confirmHold(c, { tenantId: f.tenantId, holdId: hold.id, now })),
        tx((c) => placeHold(c, holdInput(f, rivalStart, now, { conversationId: randomUUID() }))),
      ]);
      outcomes.push(`${codeOf(confirmed)}/${codeOf(rival)}`);
    }
    expect(outcomes).toEqual(Array.from({ length: 50 }, () => 'ok/conflict'));
    expect((await database.pool.query<{ n: number }>(OVERLAPS_SQL)).rows[0]?.n).toBe(0);
  });

  it('books an expired hold when its slot is still free, whether or not it was released', async () => {
    const f = await seedFixture();
    const tenantId = f.tenantId;
    const a = await tx((c) => placeHold(c, holdInput(f, '2030-01-10T10:00:00Z', at(BASE))));
    const b = await tx((c) => placeHold(c, holdInput(f, '2030-01-10T12:00:00Z', at(BASE))));
    const later = at(BASE + 30 * MIN);
    // b's expiry job ran; a's did not.
    await expect(tx((c) => expireHold(c, { tenantId, holdId: b.id, now: later }))).resolves.toEqual({
      released: true,
      conversationId: null,
      pendingUntil: null,
    });
    await expect(tx((c) => confirmHold(c, { tenantId, holdId: a.id, now: later }))).resolves.toMatchObject({
      id: a.id,
      status: 'confirmed',
    });
    await expect(tx((c) => confirmHold(c, { tenantId, holdId: b.id, now: later }))).resolves.toMatchObject({
      id: b.id,
      status: 'confirmed',
    });
    expect(await findReservation(database.pool, tenantId, b.id)).toMatchObject({
      kind: 'appointment',
      status: 'live',
      release_reason: null,
    });
  });

  it('refuses an expired hold whose slot someone else took, keeping the transaction usable', async () => {
    const f = await seedFixture();
    const tenantId = f.tenantId;
    const mine = await tx((c) => placeHold(c, holdInput(f, '2030-01-10T15:00:00Z', at(BASE))));
    // 20 minutes on, mine has expired and someone else holds an overlapping slot.
    const theirs = await tx((c) => placeHold(c, holdInput(f, '2030-01-10T15:30:00Z', at(BASE + 20 * MIN))));
    const result = await tx(async (c) => {
      const error = await confirmHold(c, { tenantId, holdId: mine.id, now: at(BASE + 25 * MIN) }).catch(
        (e: unknown) => e,
      );
      const { rows } = await c.query<{ one: number }>('SELECT 1 AS one');
      return { error, after: rows[0]?.one };
    });
    expect(result.error).toMatchObject({ code: 'conflict', message: 'that time is no longer available' });
    expect(result.after).toBe(1);
    expect(await findReservation(database.pool, tenantId, mine.id)).toMatchObject({
      kind: 'hold',
      status: 'released',
    });
    expect(await findReservation(database.pool, tenantId, theirs.id)).toMatchObject({
      kind: 'hold',
      status: 'live',
    });
  });

  it('does not revive a hold someone released on purpose', async () => {
    const f = await seedFixture();
    const tenantId = f.tenantId;
    const hold = await tx((c) => placeHold(c, holdInput(f, '2030-01-10T18:00:00Z', at(BASE))));
    await expect(
      tx((c) => releaseHold(c, { tenantId, holdId: hold.id, now: at(BASE + MIN) })),
    ).resolves.toMatchObject({
      id: hold.id,
      status: 'released',
    });
    // Releasing again is harmless.
    await tx((c) => releaseHold(c, { tenantId, holdId: hold.id, now: at(BASE + 2 * MIN) }));
    await expect(
      tx((c) => confirmHold(c, { tenantId, holdId: hold.id, now: at(BASE + 3 * MIN) })),
    ).rejects.toMatchObject({
      code: 'conflict',
      message: 'that hold was released',
    });
  });
});

describe('release, cancel and expire', () => {
  it('cancelling an appointment frees its slot; holds are released, not cancelled', async () => {
    const f = await seedFixture();
    const tenantId = f.tenantId;
    const now = at(BASE);
    const hold = await tx((c) => placeHold(c, holdInput(f, '2030-01-11T09:00:00Z', now)));
    await expect(
      tx((c) => cancelAppointment(c, { tenantId, appointmentId: hold.id, now })),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    await tx((c) => confirmHold(c, { tenantId, holdId: hold.id, now }));
    await expect(tx((c) => releaseHold(c, { tenantId, holdId: hold.id, now }))).rejects.toMatchObject({
      code: 'conflict',
    });
    const cancelled = await tx((c) => cancelAppointment(c, { tenantId, appointmentId: hold.id, now }));
    expect(cancelled).toMatchObject({ id: hold.id, status: 'cancelled' });
    await expect(tx((c) => cancelAppointment(c, { tenantId, appointmentId: hold.id, now }))).resolves.toEqual(
      cancelled,
    );
    await expect(tx((c) => placeHold(c, holdInput(f, '2030-01-11T09:00:00Z', now)))).resolves.toMatchObject({
      start: '2030-01-11T09:00:00Z',
    });
  });

  it('expireHold releases only a live hold past its expiry, and reports the conversation', async () => {
    const f = await seedFixture();
    const tenantId = f.tenantId;
    const conversationId = randomUUID();
    const hold = await tx((c) =>
      placeHold(c, holdInput(f, '2030-01-11T13:00:00Z', at(BASE), { conversationId })),
    );
    await expect(
      tx((c) => expireHold(c, { tenantId, holdId: hold.id, now: at(BASE + 14 * MIN) })),
    ).resolves.toEqual({
      released: false,
      conversationId: null,
      pendingUntil: hold.expires_at,
    });
    await expect(
      tx((c) => expireHold(c, { tenantId, holdId: hold.id, now: at(BASE + 15 * MIN) })),
    ).resolves.toEqual({
      released: true,
      conversationId,
      pendingUntil: null,
    });
    await expect(
      tx((c) => expireHold(c, { tenantId, holdId: hold.id, now: at(BASE + 16 * MIN) })),
    ).resolves.toEqual({
      released: false,
      conversationId: null,
      pendingUntil: null,
    });
  });
});

describe('tenant isolation', () => {
  it('another tenant’s ids are not_found everywhere, and change nothing', async () => {
    const mine = await seedFixture();
    const other = await seedFixture();
    const now = at(BASE);
    const hold = await tx((c) => placeHold(c, holdInput(mine, '2030-01-12T10:00:00Z', now)));
    const as = { tenantId: other.tenantId, now };
    await expect(tx((c) => confirmHold(c, { ...as, holdId: hold.id }))).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(tx((c) => releaseHold(c, { ...as, holdId: hold.id }))).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(tx((c) => cancelAppointment(c, { ...as, appointmentId: hold.id }))).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      tx((c) => expireHold(c, { ...as, holdId: hold.id, now: at(BASE + DAY) })),
    ).resolves.toMatchObject({
      released: false,
    });
    // Another tenant's service or resource cannot be used to place a hold.
    await expect(
      tx((c) => placeHold(c, holdInput(other, '2030-01-12T10:00:00Z', now, { serviceId: mine.serviceId }))),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      tx((c) =>
        placeHold(c, holdInput(other, '2030-01-12T10:00:00Z', now, { resourceId: mine.resourceIds[0] })),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(tx((c) => confirmHold(c, { ...as, holdId: 'not-a-uuid' }))).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await findReservation(database.pool, mine.tenantId, hold.id)).toMatchObject({
      kind: 'hold',
      status: 'live',
    });
  });
});

describe('a randomized run', () => {
  it('10,000 place/confirm/expire/release/cancel operations from 8 connections never double-book', async () => {
    const f = await seedFixture(3, [30, 60, 90, 120]);
    const tenantId = f.tenantId;
    const durations = [30, 60, 90, 120];
    // Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const firstStart = BASE + 2 * 60 * MIN;
    const slots = (2 * DAY) / (30 * MIN); // 96 starts aligned to 30 minutes over two days
    // `now` ranges over an hour: a hold placed early has expired for operations later on.
    const randomNow = () => at(BASE + Math.floor(random() * 60) * MIN);

    const ids: string[] = [];
    const counts = new Map<string, number>();
    const unexpected: string[] = [];
    const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

    const operation = async (): Promise<void> => {
      const roll = random();
      const now = randomNow();
      const id = ids.length > 0 ? pick(ids) : randomUUID();
      let name: string;
      let work: (c: PoolClient) => Promise<unknown>;
      if (roll < 0.45 || ids.length === 0) {
        name = 'place';
        const duration = pick(durations);
        const start = at(firstStart + Math.floor(random() * slots) * 30 * MIN);
        const input = holdInput(f, start, now, {
          serviceId: f.servicesByDuration.get(duration),
          resourceId: pick(f.resourceIds),
        });
        work = async (c) => ids.push((await placeHold(c, input)).id);
      } else if (roll < 0.65) {
        name = 'confirm';
        work = (c) => confirmHold(c, { tenantId, holdId: id, now });
      } else if (roll < 0.78) {
        name = 'expire';
        work = (c) => expireHold(c, { tenantId, holdId: id, now });
      } else if (roll < 0.9) {
        name = 'release';
        work = (c) => releaseHold(c, { tenantId, holdId: id, now });
      } else {
        name = 'cancel';
        work = (c) => cancelAppointment(c, { tenantId, appointmentId: id, now });
      }
      try {
        await tx(work);
        count(`${name}:ok`);
      } catch (err) {
        if (err instanceof AppError && (err.code === 'conflict' || err.code === 'not_found')) {
          count(`${name}:${err.code}`);
        } else {
          unexpected.push(`${name}: ${String(err)}`);
        }
      }
    };

    const TOTAL = 10_000;
    let issued = 0;
    const connection = async () => {
      while (issued < TOTAL) {
        issued++;
        await operation();
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 8 }, connection));
    const elapsed = Date.now() - started;

    expect(unexpected).toEqual([]);
    expect((await database.pool.query<{ n: number }>(OVERLAPS_SQL)).rows[0]?.n).toBe(0);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(TOTAL);
    // The mix exercised every path that writes.
    for (const key of [
      'place:ok',
      'place:conflict',
      'confirm:ok',
      'confirm:conflict',
      'expire:ok',
      'release:ok',
      'cancel:ok',
    ]) {
      expect(counts.get(key) ?? 0, key).toBeGreaterThan(0);
    }
    console.info(
      `randomized run: ${TOTAL} operations in ${elapsed} ms`,
      Object.fromEntries([...counts].sort()),
    );
  }, 90_000);
});
