import type { Pool } from './db.ts';
import { inTransaction } from './db.ts';
import { ensureCampaignStatus } from './repositories/compliance.ts';
import {
  ensureTenantSetting,
  findTenantById,
  type Tenant,
  upsertTenantBySlug,
} from './repositories/tenants.ts';

// The demo tenant of docs/product.md, seeded idempotently when NMC_DEMO is on. Later modules (catalog,
// scheduling, compliance) add their part of the demo through `demoSeeders`.

export const DEMO = {
  slug: 'demo',
  name: 'Demo Plumbing',
  auth_org_id: 'org_demo',
  twilio_number: '+15005550006',
  forwarding_phone: '+15005550001',
  time_zone: 'America/Los_Angeles',
} as const;

export type DemoSeeder = (
  client: Parameters<Parameters<typeof inTransaction>[1]>[0],
  tenant: Tenant,
) => Promise<void>;

export async function seedDemo(db: Pool, seeders: DemoSeeder[] = []): Promise<Tenant> {
  return inTransaction(db, async (client) => {
    const { tenant: stored } = await upsertTenantBySlug(client, { ...DEMO });
    // The demo's 10DLC campaign is approved; an existing status (changed by someone) is kept.
    await ensureCampaignStatus(client, stored.id, 'approved');
    // The demo takes bookings on its public page; a demo that turned it off keeps it off.
    await ensureTenantSetting(client, stored.id, 'public_booking_enabled', true);
    const tenant = (await findTenantById(client, stored.id)) ?? stored;
    for (const seed of seeders) await seed(client, tenant);
    return tenant;
  });
}
