import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { PgBoss } from 'pg-boss';
import { computeAvailability } from '../../src/domain/availability.ts';
import { AppError } from '../../src/domain/errors.ts';
import { createPool, inTransaction } from '../../src/persistence/db.ts';
import { createService } from '../../src/persistence/repositories/catalog.ts';
import { tryInsertReservation } from '../../src/persistence/repositories/scheduling/holds.ts';
import { createResource, getResource } from '../../src/persistence/repositories/scheduling/resources.ts';
import { upsertTenantBySlug } from '../../src/persistence/repositories/tenants.ts';
import { findAvailability, loadAvailabilityInput } from '../../src/runtime/scheduling/find-availability.ts';
import { placeHold } from '../../src/runtime/scheduling/place-hold.ts';
import type { SchedulingSettings } from '../../src/runtime/scheduling/scheduling-settings.ts';
import { median } from '../lib/load.ts';

// Scheduling under contention, on a tenant of its own (in the engine's database):
// - race: 100 placeHold attempts for the same slot of one resource, all started at once, each in
//   its own transaction over its own connection: exactly one must win, 99 must get `conflict`;
// - availability: findAvailability for one resource over 14 days with 500 live appointments
//   (30-minute service, resource open around the clock): median ms of 50 calls, and how that time
//   splits between the database reads and the pure computation.

const ALL_DAY = [{ start: '00:00', end: '24:00' }];
const ALWAYS_OPEN = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, ALL_DAY]));
const SETTINGS: SchedulingSettings = {
  slot_granularity_minutes: 30,
  min_notice_minutes: 0,
  buffer_minutes: 0,
  horizon_days: 14,
  allow_same_day: true,
  hold_ttl_minutes: 15,
};
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

export type HoldRaceResult = {
  attempts: number;
  winners: { index: number; holdId: string; start: string; end: string }[];
  conflicts: number;
  unexpected: string[];
  ms: number;
};

export type AvailabilityResult = {
  appointments: number;
  medianMs: number;
  medianDbMs: number;
  medianComputeMs: number;
  slots: number;
};

async function fixture(url: string, boss: PgBoss) {
  const pool = createPool(url, { max: 100, applicationName: 'nmc-bench-holds' });
  const suffix = randomBytes(4).toString('hex');
  const { tenant } = await upsertTenantBySlug(pool, {
    slug: `bench-sched-${suffix}`,
    name: `Bench scheduling ${suffix}`,
    time_zone: 'UTC',
    auth_org_id: `org_bench_${suffix}`,
    twilio_number: null,
    forwarding_phone: null,
  });
  const service = await createService(pool, tenant.id, {
    name: 'Half-hour job',
    duration_minutes: 30,
    price: { amount_cents: 5_000, currency: 'USD' },
  });
  const resource = async (name: string) =>
    createResource(pool, tenant.id, { name, time_zone: 'UTC', weekly_hours: ALWAYS_OPEN });
  return { pool, tenantId: tenant.id, serviceId: service.id, resource, boss };
}

export async function runHolds(
  url: string,
  boss: PgBoss,
  options: { attempts: number; appointments: number; calls: number },
): Promise<{ race: HoldRaceResult; availability: AvailabilityResult }> {
  const f = await fixture(url, boss);
  try {
    // A Monday at midnight UTC, a week ahead: the whole 14-day window is in the future.
    const monday = Date.UTC(2030, 0, 7);
    const now = new Date(monday).toISOString();

    // ── the race ──
    const raced = await f.resource('Race');
    const start = new Date(monday + 2 * DAY + 10 * 60 * MIN).toISOString();
    // Every attempt gets its own connection, opened before the start line.
    const warm = await Promise.all(Array.from({ length: options.attempts }, () => f.pool.connect()));
    for (const c of warm) c.release();
    const t0 = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: options.attempts }, (_, index) =>
        inTransaction(f.pool, (client) =>
          placeHold(client, {
            tenantId: f.tenantId,
            serviceId: f.serviceId,
            resourceId: raced.id,
            start,
            now,
            holdTtlMinutes: SETTINGS.hold_ttl_minutes,
            conversationId: randomUUID(),
            boss,
            settings: SETTINGS,
          }),
        ).then((hold) => ({ index, hold })),
      ),
    );
    const raceMs = performance.now() - t0;
    const race: HoldRaceResult = {
      attempts: options.attempts,
      winners: [],
      conflicts: 0,
      unexpected: [],
      ms: raceMs,
    };
    for (const r of results) {
      if (r.status === 'fulfilled') {
        race.winners.push({
          index: r.value.index,
          holdId: r.value.hold.id,
          start: r.value.hold.start,
          end: r.value.hold.end,
        });
      } else if (r.reason instanceof AppError && r.reason.code === 'conflict') {
        race.conflicts += 1;
      } else {
        race.unexpected.push(String(r.reason));
      }
    }

    // ── availability with 500 appointments ──
    const busy = await f.resource('Busy');
    const slotCount = (14 * DAY) / (30 * MIN);
    const chosen = pickDistinct(slotCount, Math.min(options.appointments, slotCount));
    await inTransaction(f.pool, async (client) => {
      for (const slot of chosen) {
        const s = monday + slot * 30 * MIN;
        const inserted = await tryInsertReservation(client, {
          tenantId: f.tenantId,
          id: randomUUID(),
          resourceId: busy.id,
          serviceId: f.serviceId,
          conversationId: null,
          kind: 'appointment',
          start: new Date(s).toISOString(),
          end: new Date(s + 30 * MIN).toISOString(),
          expiresAt: null,
          now,
        });
        if (inserted === null) throw new Error('bench fixture: appointment overlapped');
      }
    });
    await f.pool.query('ANALYZE sched_reservations');
    const query = {
      tenantId: f.tenantId,
      serviceId: f.serviceId,
      resourceId: busy.id,
      from: now,
      to: new Date(monday + 14 * DAY).toISOString(),
      now,
      settings: SETTINGS,
    };
    let slots = 0;
    for (let i = 0; i < 5; i++) slots = (await findAvailability(f.pool, query)).items.length; // warm-up
    const total: number[] = [];
    for (let i = 0; i < options.calls; i++) {
      const a = performance.now();
      await findAvailability(f.pool, query);
      total.push(performance.now() - a);
    }
    // The same work in two halves: the reads (service, resource, exceptions, busy) and the pure part.
    const db: number[] = [];
    const compute: number[] = [];
    for (let i = 0; i < options.calls; i++) {
      const a = performance.now();
      const resource = await getResource(f.pool, f.tenantId, busy.id);
      if (!resource) throw new Error('resource vanished');
      const input = await loadAvailabilityInput(f.pool, {
        tenantId: f.tenantId,
        durationMinutes: 30,
        resources: [resource],
        from: query.from,
        to: query.to,
        now,
        settings: SETTINGS,
      });
      const b = performance.now();
      if (input) computeAvailability(input);
      const c = performance.now();
      db.push(b - a);
      compute.push(c - b);
    }
    return {
      race,
      availability: {
        appointments: chosen.length,
        medianMs: median(total),
        medianDbMs: median(db),
        medianComputeMs: median(compute),
        slots,
      },
    };
  } finally {
    await f.pool.end();
  }
}

/** `count` distinct integers in [0, n), spread deterministically. */
function pickDistinct(n: number, count: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  let seed = 42;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = seed % (i + 1);
    [all[i], all[j]] = [all[j] as number, all[i] as number];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}
