import { randomBytes, randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { CampaignStatus } from '../../src/machines/conversation-events.ts';
import type { Queryable } from '../../src/persistence/db.ts';
import { setCampaignStatus } from '../../src/persistence/repositories/compliance.ts';
import {
  type NewTenant,
  type Tenant,
  upsertTenantBySlug,
} from '../../src/persistence/repositories/tenants.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import type { Dispatch, DispatchResult } from '../../src/runtime/dispatch.ts';
import type { SendJob } from '../../src/runtime/send-sms.ts';

export type SeedTenantOverrides = Partial<NewTenant> & {
  /** The tenant's 10DLC campaign; `none` inserts no campaign row. Defaults to `approved`. */
  campaign?: CampaignStatus;
};

/** A tenant with unique slug and number and (by default) an approved campaign, via the repositories. */
export async function seedTenant(db: Queryable, overrides: SeedTenantOverrides = {}): Promise<Tenant> {
  const { campaign = 'approved', ...tenantOverrides } = overrides;
  const suffix = randomBytes(4).toString('hex');
  const { tenant } = await upsertTenantBySlug(db, {
    id: randomUUID(),
    slug: `tenant-${suffix}`,
    name: `Plumbing ${suffix}`,
    time_zone: 'America/New_York',
    auth_org_id: `org_${suffix}`,
    twilio_number: `+1555${Number.parseInt(suffix, 16).toString().padStart(7, '0').slice(-7)}`,
    forwarding_phone: null,
    settings: {},
    ...tenantOverrides,
  });
  if (campaign !== 'none') await setCampaignStatus(db, tenant.id, campaign);
  return tenant;
}

/** pg-boss over the test database (schema and queues come from the template), started, not supervising. */
export async function startBossForTests(url: string): Promise<PgBoss> {
  const boss = createBoss({ connectionString: url, supervise: false, max: 4 });
  // pg-boss emits 'error' (e.g. its pool losing a connection when the database is dropped in
  // afterAll); without a listener Node would turn that into an uncaught exception.
  boss.on('error', () => undefined);
  await boss.start();
  return boss;
}

/** A missed call from `caller` dispatched as the dial-status webhook would (without its webhook claim). */
export function dispatchMissedCall(
  dispatch: Dispatch,
  tenantId: string,
  caller: string,
): Promise<DispatchResult> {
  return dispatch(
    tenantId,
    { caller },
    { type: 'MissedCall', callSid: `CA${randomUUID().replaceAll('-', '')}`, at: new Date().toISOString() },
    { correlationId: `test-${randomUUID()}` },
  );
}

/** A missed call's queued greeting and the sms-send job the send worker would run for it. */
export async function queuedGreeting(dispatch: Dispatch, tenantId: string, caller: string) {
  const result = await dispatchMissedCall(dispatch, tenantId, caller);
  const messageId = result.messageIds[0];
  if (!messageId) throw new Error('the missed call queued no greeting');
  const job: SendJob = { tenant_id: tenantId, message_id: messageId, attempt: 1 };
  return { caller, messageId, conversationId: result.conversationId, job };
}
