import type { PoolClient } from '../../persistence/db.ts';
import { lockCampaign, recordReview, submitRegistration } from '../../persistence/repositories/compliance.ts';
import {
  addNumberToService,
  createService,
  fetchBrand,
  fetchCampaign,
  findBrand,
  findCampaign,
  findService,
  type ReviewState,
  registerBrand,
  registerCampaign,
  tenantBundles,
} from '../../providers/twilio/a2p.ts';
import { tenantNumberTag } from '../../providers/twilio/numbers.ts';
import { writeOutboxEvents } from '../outbox.ts';
import type { StepResult, StepRun } from './provisioning-deps.ts';
import { DEFAULT_REVIEW_POLL_MS } from './provisioning-deps.ts';

// The 10DLC steps through Twilio's A2P registration: the brand, the tenant's messaging service
// (its number joins it), and the campaign on that service. Reviews take time: a pending brand or
// campaign leaves its step `waiting`, asked again after the poll interval; a rejection fails the
// step with the carrier's reason, and only new registration data (a new desired state) retries it.
// The campaign's outcome is the compliance module's too (comp_campaigns, with its
// nmc.compliance.CampaignStatusChanged event): nothing is texted before it is approved.

const recheck = (run: StepRun) =>
  new Date(run.now.getTime() + (run.deps.reviewPollMs ?? DEFAULT_REVIEW_POLL_MS));

export async function ensureBrand(run: StepRun): Promise<StepResult> {
  const { twilio } = run.deps;
  const bundles = tenantBundles(run.tenantId);
  const known = run.previous.brand_sid;
  let brand: ReviewState | null =
    typeof known === 'string' && run.again
      ? await fetchBrand(twilio, known)
      : await findBrand(twilio, bundles.a2pProfileBundleSid);
  // A rejection recorded under earlier brand data is answered with a new registration.
  if (brand?.status === 'rejected' && !run.again && brand.sid === known) brand = null;
  brand ??= await registerBrand(twilio, { ...bundles, soleProprietor: run.desired.ten_dlc === null });
  const outputs = { brand_sid: brand.sid, brand_status: brand.status };
  if (brand.status === 'approved') return { status: 'done', outputs };
  if (brand.status === 'rejected')
    return { status: 'failed', outputs, reason: `brand rejected: ${brand.reason}` };
  return { status: 'waiting', outputs, reason: 'brand under review', recheckAt: recheck(run) };
}

export async function ensureMessagingService(run: StepRun): Promise<StepResult> {
  const { twilio, webhookBaseUrl } = run.deps;
  const numberSid = run.input.number_sid;
  if (typeof numberSid !== 'string') throw Object.assign(new Error('no number yet'), { permanent: true });
  const tag = tenantNumberTag(run.tenantId);
  const known = run.previous.service_sid;
  const serviceSid =
    (typeof known === 'string' ? known : null) ??
    (await findService(twilio, tag)) ??
    (await createService(twilio, {
      friendlyName: tag,
      inboundRequestUrl: `${webhookBaseUrl}/webhooks/twilio/sms`,
      statusCallback: `${webhookBaseUrl}/webhooks/twilio/sms/status`,
    }));
  await addNumberToService(twilio, serviceSid, numberSid);
  return { status: 'done', outputs: { service_sid: serviceSid } };
}

function campaignData(run: StepRun) {
  const given = run.desired.ten_dlc?.campaign;
  if (given) {
    return {
      description: given.description,
      messageFlow: given.opt_in_description,
      samples: given.sample_messages,
      usecase: given.use_case,
    };
  }
  const name = run.desired.name;
  return {
    description: `${name} texts callers whose phone call it missed, to answer their question or book a visit.`,
    messageFlow: `A caller phones ${name}; when the call is missed, the caller receives one text and may reply. Replying STOP ends all texts.`,
    samples: [
      `Sorry we missed your call! This is ${name}. Reply here and we'll help you book a time. Reply STOP to opt out.`,
      `${name}: you're booked for Tue 9:00 AM. Reply C to cancel.`,
    ],
    usecase: 'CUSTOMER_CARE',
  };
}

async function recordCampaign(
  client: PoolClient,
  run: StepRun,
  campaign: ReviewState,
  correlationId: string,
) {
  const previous = await lockCampaign(client, run.tenantId);
  let status = previous?.status ?? null;
  if (previous === null || previous.provider_ref !== campaign.sid) {
    await submitRegistration(
      client,
      run.tenantId,
      { provider: 'twilio', ...campaignData(run) },
      campaign.sid,
    );
    status = 'pending';
  }
  if (
    campaign.status !== 'pending' &&
    status !== (campaign.status === 'approved' ? 'approved' : 'rejected')
  ) {
    await recordReview(client, run.tenantId, {
      status: campaign.status,
      reason: campaign.reason,
      reviewer: 'provider:twilio',
    });
  }
  const next = campaign.status;
  const before = previous?.status ?? 'none';
  if (next !== before) {
    await writeOutboxEvents(client, [
      {
        tenantId: run.tenantId,
        name: 'nmc.compliance.CampaignStatusChanged',
        payload: { status: next, previous: before, reason: campaign.reason },
        occurredAt: run.now.toISOString(),
        correlationId,
        causationId: null,
      },
    ]);
  }
}

export async function ensureCampaign(run: StepRun): Promise<StepResult> {
  const { twilio } = run.deps;
  const serviceSid = run.input.service_sid;
  const brandSid = run.input.brand_sid;
  if (typeof serviceSid !== 'string' || typeof brandSid !== 'string') {
    throw Object.assign(new Error('no brand or messaging service yet'), { permanent: true });
  }
  const known = run.previous.campaign_sid;
  let campaign =
    typeof known === 'string' && run.again
      ? await fetchCampaign(twilio, serviceSid, known)
      : await findCampaign(twilio, serviceSid);
  campaign ??= await registerCampaign(twilio, { serviceSid, brandSid, ...campaignData(run) });
  const found = campaign;
  const outputs = { campaign_sid: found.sid, campaign_status: found.status };
  const commit = (client: PoolClient) => recordCampaign(client, run, found, `provisioning:${run.tenantId}`);
  if (found.status === 'approved') return { status: 'done', outputs, commit };
  if (found.status === 'rejected')
    return { status: 'failed', outputs, reason: `campaign rejected: ${found.reason}`, commit };
  return { status: 'waiting', outputs, reason: 'campaign under review', recheckAt: recheck(run), commit };
}
