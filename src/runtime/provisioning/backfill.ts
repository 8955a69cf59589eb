import { AppError } from '../../domain/errors.ts';
import { inTransaction } from '../../persistence/db.ts';
import { lockStripeCustomer, setStripeCustomer } from '../../persistence/repositories/billing.ts';
import { campaignStatus } from '../../persistence/repositories/compliance.ts';
import { invalidateStep, latestDesired } from '../../persistence/repositories/provisioning.ts';
import { findTenantById, setTenantNumber } from '../../persistence/repositories/tenants.ts';
import { findCampaign, findService } from '../../providers/twilio/a2p.ts';
import { findNumbersByTag, tenantNumberTag } from '../../providers/twilio/numbers.ts';
import { syncSubscriptionFromStripe } from '../billing-events.ts';
import type { ProvisioningDeps } from './provisioning-deps.ts';
import { scheduleConvergence } from './provisioning-jobs.ts';

// Backfill: our record of a tenant, rebuilt from what the providers hold, without trusting what we
// stored — the number Twilio holds under the tenant's tag, the Stripe customer found by its
// tenant_id metadata and every subscription of it, and the 10DLC campaign of the tenant's
// messaging service. Unlike reconciliation it reads no step outputs, so it also restores a mirror
// that was lost or never written (a restore from an old backup, rows deleted by hand). The campaign
// is the compliance module's record, written only by its step: a status that differs re-runs it.

export type BackfillResult = {
  number: string | null;
  numbers_found: number;
  stripe_customer: string | null;
  subscriptions: number;
  campaign: 'pending' | 'approved' | 'rejected' | null;
  campaign_rechecked: boolean;
};

export async function backfillTenant(deps: ProvisioningDeps, tenantId: string): Promise<BackfillResult> {
  const tenant = await findTenantById(deps.db, tenantId);
  if (!tenant) throw new AppError('not_found', 'no such tenant');
  const tag = tenantNumberTag(tenantId);

  const numbers = await findNumbersByTag(deps.twilio, tag);
  const number = numbers.find((n) => n.phoneNumber === tenant.twilio_number) ?? numbers[0] ?? null;
  if (number && number.phoneNumber !== tenant.twilio_number)
    await setTenantNumber(deps.db, tenantId, number.phoneNumber);

  const customers = await deps.stripe.customers.search({
    query: `metadata['tenant_id']:'${tenantId}'`,
    limit: 1,
  });
  const customer = customers.data[0]?.id ?? null;
  let subscriptions = 0;
  if (customer) {
    await inTransaction(deps.db, async (client) => {
      if ((await lockStripeCustomer(client, tenantId)) === null)
        await setStripeCustomer(client, tenantId, customer);
    });
    const listed = await deps.stripe.subscriptions.list({ customer, status: 'all', limit: 100 });
    for (const subscription of listed.data) {
      await syncSubscriptionFromStripe(deps, subscription, { correlationId: `backfill:${tenantId}` });
      subscriptions += 1;
    }
  }

  const service = await findService(deps.twilio, tag);
  const campaign = service ? await findCampaign(deps.twilio, service) : null;
  let rechecked = false;
  if (
    campaign &&
    campaign.status !== (await campaignStatus(deps.db, tenantId)) &&
    (await latestDesired(deps.db, tenantId))
  ) {
    rechecked = await invalidateStep(deps.db, tenantId, 'ten_dlc_campaign');
    if (rechecked) await scheduleConvergence(deps.boss, tenantId);
  }
  return {
    number: number?.phoneNumber ?? null,
    numbers_found: numbers.length,
    stripe_customer: customer,
    subscriptions,
    campaign: campaign?.status ?? null,
    campaign_rechecked: rechecked,
  };
}
