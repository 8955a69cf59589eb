import { createHash } from 'node:crypto';
import { ensureService, type ServiceInput } from './repositories/catalog.ts';
import { ensureResource, type ResourceInput } from './repositories/scheduling/resources.ts';
import type { DemoSeeder } from './seed-demo.ts';

// The demo tenant's catalog and its one plumber (docs/product.md, "Interfaces"). Idempotent: ids are
// derived from the tenant id and a fixed key, and rows are inserted only when absent, so running it
// again adds nothing and never overwrites what someone changed since. The scheduling settings of the
// demo (no buffer, bookable from the next hour for 14 days) are the defaults, so no policy rows.

const WEEKDAY_HOURS = [{ start: '08:00', end: '17:00' }];

export const DEMO_SERVICES: readonly { key: string; service: ServiceInput }[] = [
  {
    key: 'service:drain-cleaning',
    service: {
      name: 'Drain cleaning',
      duration_minutes: 60,
      price: { amount_cents: 14_900, currency: 'USD' },
      aliases: ['clogged drain'],
    },
  },
  {
    key: 'service:water-heater-repair',
    service: {
      name: 'Water heater repair',
      duration_minutes: 90,
      price: { amount_cents: 22_900, currency: 'USD' },
      aliases: ['no hot water', 'water heater'],
    },
  },
  {
    key: 'service:toilet-repair',
    service: {
      name: 'Toilet repair',
      duration_minutes: 60,
      price: { amount_cents: 12_900, currency: 'USD' },
      aliases: [],
    },
  },
];

export const DEMO_RESOURCE: { key: string; resource: ResourceInput } = {
  key: 'resource:alex',
  resource: {
    name: 'Alex (plumber)',
    time_zone: 'America/Los_Angeles',
    calendar_kind: 'internal',
    weekly_hours: {
      '1': WEEKDAY_HOURS,
      '2': WEEKDAY_HOURS,
      '3': WEEKDAY_HOURS,
      '4': WEEKDAY_HOURS,
      '5': WEEKDAY_HOURS,
    },
  },
};

/** A stable UUID (version 5 layout, SHA-1 of tenant id and key) for a demo row of that tenant. */
export function demoRowId(tenantId: string, key: string): string {
  const h = createHash('sha1').update(`nmc-demo:${tenantId}:${key}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const seedDemoScheduling: DemoSeeder = async (client, tenant) => {
  for (const { key, service } of DEMO_SERVICES) {
    await ensureService(client, tenant.id, demoRowId(tenant.id, key), service);
  }
  await ensureResource(client, tenant.id, demoRowId(tenant.id, DEMO_RESOURCE.key), DEMO_RESOURCE.resource);
};
