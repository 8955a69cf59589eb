import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../../src/persistence/db.ts';
import {
  createService,
  deactivateService,
  listServices,
} from '../../../src/persistence/repositories/catalog.ts';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import {
  createResource,
  listResources,
  setException,
  upsertExternalBusy,
} from '../../../src/persistence/repositories/scheduling/resources.ts';
import { seedDemo } from '../../../src/persistence/seed-demo.ts';
import { seedDemoScheduling } from '../../../src/persistence/seed-demo-scheduling.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { findAvailability } from '../../../src/runtime/scheduling/find-availability.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import {
  loadSchedulingSettings,
  type SchedulingSettings,
} from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startBossForTests } from '../../helpers/engine.ts';

// findAvailability against seeded rows: what blocks a slot (appointments, live holds, external busy)
// and what does not (expired holds), exceptions, buffers, resource filters, inactive services,
// settings from policy_values, and the demo catalog.

const WEEKDAY = [{ start: '08:00', end: '17:00' }];
const MON_FRI = { '1': WEEKDAY, '2': WEEKDAY, '3': WEEKDAY, '4': WEEKDAY, '5': WEEKDAY };
const SETTINGS: SchedulingSettings = {
  slot_granularity_minutes: 30,
  min_notice_minutes: 60,
  buffer_minutes: 0,
  horizon_days: 14,
  allow_same_day: true,
  hold_ttl_minutes: 15,
};
// Sunday 04:00 in Los Angeles (PST, UTC−8); the week after is Monday 7 … Friday 11 January 2030.
const NOW = '2030-01-06T12:00:00Z';
const MONDAY = { from: '2030-01-07T08:00:00Z', to: '2030-01-08T08:00:00Z' };
const TUESDAY = { from: '2030-01-08T08:00:00Z', to: '2030-01-09T08:00:00Z' };
const WEDNESDAY = { from: '2030-01-09T08:00:00Z', to: '2030-01-10T08:00:00Z' };

let database: TestDatabase;
let boss: PgBoss;
let tenantId: string;
let serviceId: string;
let pat: string;
let sam: string;

/** Local Los Angeles times (PST) of a Monday 7 January slot list. */
function mondayTimes(slots: { start: string }[]): string[] {
  return slots.map((s) => {
    const utc = new Date(s.start);
    const local = new Date(utc.getTime() - 8 * 3_600_000);
    return local.toISOString().slice(11, 16);
  });
}

async function seedTenantRow(): Promise<string> {
  const id = randomUUID();
  await database.pool.query(
    "INSERT INTO id_tenants (id, slug, name, time_zone) VALUES ($1, $2, 'Availability', 'America/Los_Angeles')",
    [id, `avail-${id.slice(0, 8)}`],
  );
  return id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startBossForTests(database.url);
  tenantId = await seedTenantRow();
  const service = await createService(database.pool, tenantId, {
    name: 'Drain cleaning',
    duration_minutes: 60,
    price: { amount_cents: 14_900, currency: 'USD' },
    aliases: ['clogged drain'],
  });
  serviceId = service.id;
  const resource = (name: string) =>
    createResource(database.pool, tenantId, {
      name,
      time_zone: 'America/Los_Angeles',
      weekly_hours: MON_FRI,
    });
  pat = (await resource('Pat')).id;
  sam = (await resource('Sam')).id;

  const hold = (start: string, now: string) =>
    inTransaction(database.pool, (c) =>
      placeHold(c, {
        tenantId,
        serviceId,
        resourceId: pat,
        start,
        now,
        holdTtlMinutes: 15,
        boss,
        settings: SETTINGS,
      }),
    );
  // Pat, Monday: an appointment 09:00–10:00, a live hold 12:00–13:00, an expired hold 14:00–15:00,
  // and a Google busy block 15:30–16:00 (local times).
  const appointment = await hold('2030-01-07T17:00:00Z', NOW);
  await inTransaction(database.pool, (c) => confirmHold(c, { tenantId, holdId: appointment.id, now: NOW }));
  await hold('2030-01-07T20:00:00Z', NOW);
  await hold('2030-01-07T22:00:00Z', '2030-01-06T11:30:00Z'); // expired at 11:45Z, before NOW
  await upsertExternalBusy(database.pool, {
    tenantId,
    resourceId: pat,
    source: 'google',
    externalId: 'evt-1',
    start: '2030-01-07T23:30:00Z',
    end: '2030-01-08T00:00:00Z',
  });
  // Pat: Tuesday closed; Wednesday only 10:00–12:00.
  await setException(database.pool, tenantId, pat, '2030-01-08', []);
  await setException(database.pool, tenantId, pat, '2030-01-09', [{ start: '10:00', end: '12:00' }]);
});
afterAll(async () => {
  await boss?.stop({ graceful: false });
  await database?.drop();
});

describe('findAvailability', () => {
  const find = (
    window: { from: string; to: string },
    extra: Partial<Parameters<typeof findAvailability>[1]> = {},
  ) =>
    findAvailability(database.pool, {
      tenantId,
      serviceId,
      resourceId: pat,
      now: NOW,
      settings: SETTINGS,
      ...window,
      ...extra,
    });

  it('an unbooked day offers every 30-minute start that fits before 17:00', async () => {
    const { items, service, resources } = await find(MONDAY, { resourceId: sam });
    expect(service).toMatchObject({
      id: serviceId,
      duration_minutes: 60,
      price: { amount_cents: 14_900, currency: 'USD' },
    });
    expect(resources.map((r) => r.id)).toEqual([sam]);
    expect(items).toHaveLength(17);
    expect(items[0]).toEqual({
      resource_id: sam,
      start: '2030-01-07T16:00:00Z',
      end: '2030-01-07T17:00:00Z',
    });
    expect(mondayTimes(items).at(-1)).toBe('16:00');
  });

  it('appointments, live holds and external busy remove slots; an expired hold does not', async () => {
    const { items } = await find(MONDAY);
    expect(mondayTimes(items)).toEqual([
      '08:00',
      '10:00',
      '10:30',
      '11:00',
      '13:00',
      '13:30',
      '14:00', // the expired hold's slot
      '14:30',
      '16:00',
    ]);
  });

  it('widens busy blocks by the buffer', async () => {
    const { items } = await find(MONDAY, { settings: { ...SETTINGS, buffer_minutes: 30 } });
    expect(mondayTimes(items)).toEqual(['10:30', '13:30', '14:00']);
  });

  it('an exception closes a day, or replaces its hours', async () => {
    expect((await find(TUESDAY)).items).toEqual([]);
    const wednesday = await find(WEDNESDAY);
    expect(wednesday.items.map((s) => s.start)).toEqual([
      '2030-01-09T18:00:00Z',
      '2030-01-09T18:30:00Z',
      '2030-01-09T19:00:00Z',
    ]);
    // Sam has no exception on Tuesday.
    expect((await find(TUESDAY, { resourceId: sam })).items).toHaveLength(17);
  });

  it('without a resource, offers every resource’s slots in time order', async () => {
    const { items, resources } = await find(MONDAY, { resourceId: undefined });
    expect(resources.map((r) => r.name)).toEqual(['Pat', 'Sam']);
    expect(items.filter((s) => s.resource_id === pat)).toHaveLength(9);
    expect(items.filter((s) => s.resource_id === sam)).toHaveLength(17);
    const starts = items.map((s) => s.start);
    expect(starts).toEqual([...starts].sort());
  });

  it('respects notice, horizon and the query window', async () => {
    // 15:30 local on Monday: with an hour's notice nothing can start before 16:30; the last start is 16:00.
    const lateNow = '2030-01-07T23:30:00Z';
    expect((await find(MONDAY, { resourceId: sam, now: lateNow })).items).toEqual([]);
    expect((await find({ from: '2030-03-01T00:00:00Z', to: '2030-03-02T00:00:00Z' })).items).toEqual([]);
    const morning = await find(
      { from: '2030-01-07T16:00:00Z', to: '2030-01-07T17:00:00Z' },
      { resourceId: sam },
    );
    expect(mondayTimes(morning.items)).toEqual(['08:00', '08:30']);
  });

  it('rejects unknown, foreign and inactive services, unknown resources and bad times', async () => {
    await expect(find(MONDAY, { serviceId: randomUUID() })).rejects.toMatchObject({ code: 'not_found' });
    await expect(find(MONDAY, { resourceId: randomUUID() })).rejects.toMatchObject({ code: 'not_found' });
    await expect(find(MONDAY, { resourceId: 'pat' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(find({ from: 'monday', to: MONDAY.to })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(find({ from: MONDAY.to, to: MONDAY.from })).rejects.toMatchObject({
      code: 'validation_failed',
    });

    const otherTenant = await seedTenantRow();
    await expect(
      findAvailability(database.pool, {
        tenantId: otherTenant,
        serviceId,
        now: NOW,
        settings: SETTINGS,
        ...MONDAY,
      }),
    ).rejects.toMatchObject({ code: 'not_found' });

    const retired = await createService(database.pool, tenantId, {
      name: 'Sewer camera',
      duration_minutes: 30,
      price: { amount_cents: 9_900, currency: 'USD' },
    });
    await expect(find(MONDAY, { serviceId: retired.id })).resolves.toMatchObject({
      service: { id: retired.id },
    });
    await deactivateService(database.pool, tenantId, retired.id);
    await expect(find(MONDAY, { serviceId: retired.id })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('scheduling settings', () => {
  it('defaults, then platform policy rows, then the tenant’s; invalid values are ignored', async () => {
    const id = await seedTenantRow();
    expect(await loadSchedulingSettings(database.pool, id, { holdTtlMinutes: 15 })).toEqual({
      slot_granularity_minutes: 30,
      min_notice_minutes: 60,
      buffer_minutes: 0,
      horizon_days: 14,
      allow_same_day: true,
      hold_ttl_minutes: 15,
    });
    await setPolicyValue(database.pool, null, 'scheduling.horizon_days', 7);
    try {
      await setPolicyValue(database.pool, id, 'scheduling.horizon_days', 21);
      await setPolicyValue(database.pool, id, 'scheduling.min_notice_minutes', 120);
      await setPolicyValue(database.pool, id, 'scheduling.buffer_minutes', -5);
      await setPolicyValue(database.pool, id, 'scheduling.hold_ttl_minutes', 10);
      await setPolicyValue(database.pool, id, 'scheduling.allow_same_day', 'nope');
      expect(await loadSchedulingSettings(database.pool, id, { holdTtlMinutes: 15 })).toMatchObject({
        horizon_days: 21,
        min_notice_minutes: 120,
        buffer_minutes: 0,
        hold_ttl_minutes: 10,
        allow_same_day: true,
      });
      expect(await loadSchedulingSettings(database.pool, tenantId, { holdTtlMinutes: 15 })).toMatchObject({
        horizon_days: 7,
      });
    } finally {
      await database.pool.query(
        "DELETE FROM policy_values WHERE tenant_id IS NULL AND key LIKE 'scheduling.%'",
      );
    }
  });
});

describe('the demo seeder', () => {
  it('creates the catalog and Alex once, bookable Mon–Fri 08:00–17:00 in Los Angeles', async () => {
    const first = await seedDemo(database.pool, [seedDemoScheduling]);
    const again = await seedDemo(database.pool, [seedDemoScheduling]);
    expect(again.id).toBe(first.id);
    const services = await listServices(database.pool, first.id);
    expect(services.map((s) => [s.name, s.duration_minutes, s.price.amount_cents, s.aliases])).toEqual([
      ['Drain cleaning', 60, 14_900, ['clogged drain']],
      ['Toilet repair', 60, 12_900, []],
      ['Water heater repair', 90, 22_900, ['no hot water', 'water heater']],
    ]);
    const resources = await listResources(database.pool, first.id);
    expect(resources).toEqual([
      expect.objectContaining({
        name: 'Alex (plumber)',
        time_zone: 'America/Los_Angeles',
        calendar_kind: 'internal',
      }),
    ]);
    const drain = services[0]?.id ?? '';
    const settings = await loadSchedulingSettings(database.pool, first.id, { holdTtlMinutes: 15 });
    const { items } = await findAvailability(database.pool, {
      tenantId: first.id,
      serviceId: drain,
      now: NOW,
      settings,
      ...MONDAY,
    });
    expect(mondayTimes(items)).toHaveLength(17);
    expect(mondayTimes(items)[0]).toBe('08:00');
    // Saturday and Sunday are closed.
    const weekend = await findAvailability(database.pool, {
      tenantId: first.id,
      serviceId: drain,
      now: NOW,
      settings,
      from: '2030-01-12T08:00:00Z',
      to: '2030-01-14T08:00:00Z',
    });
    expect(weekend.items).toEqual([]);
  });
});
