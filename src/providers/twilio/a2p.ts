import { createHash } from 'node:crypto';
import type { TwilioClient } from './client.ts';

// US A2P 10DLC registration at Twilio, through the SDK's Messaging v1 resources: the brand
// registration, the tenant's messaging service (its number joins it) and the service's campaign
// (usAppToPerson). Each create is preceded by a lookup, so a create whose answer was lost is found
// rather than repeated: the brand by its A2P profile bundle, the service by its FriendlyName (the
// tenant's tag), the campaign as the one a service may have.
//
// Not modelled yet: the TrustHub customer-profile and A2P-profile bundles a real brand registration
// needs. Their sids are derived from the tenant id here; with a real account those bundles must be
// created (and approved) first, and their sids stored in the desired state.

export type ReviewState = { sid: string; status: 'pending' | 'approved' | 'rejected'; reason: string | null };

function bundleSid(kind: string, tenantId: string): string {
  return `BU${createHash('sha256').update(`nmc-${kind}:${tenantId}`).digest('hex').slice(0, 32)}`;
}

export const tenantBundles = (tenantId: string) => ({
  customerProfileBundleSid: bundleSid('customer-profile', tenantId),
  a2pProfileBundleSid: bundleSid('a2p-profile', tenantId),
});

function brandState(b: { sid: string; status: string; failureReason: string | null }): ReviewState {
  const status = b.status === 'APPROVED' ? 'approved' : b.status === 'FAILED' ? 'rejected' : 'pending';
  return { sid: b.sid, status, reason: status === 'rejected' ? (b.failureReason ?? 'rejected') : null };
}

function campaignState(c: { sid: string; campaignStatus: string; errors: unknown[] | null }): ReviewState {
  const status =
    c.campaignStatus === 'VERIFIED' ? 'approved' : c.campaignStatus === 'FAILED' ? 'rejected' : 'pending';
  const first = (c.errors ?? [])[0] as { description?: string } | undefined;
  return { sid: c.sid, status, reason: status === 'rejected' ? (first?.description ?? 'rejected') : null };
}

export async function findBrand(
  client: TwilioClient,
  a2pProfileBundleSid: string,
): Promise<ReviewState | null> {
  const brands = await client.messaging.v1.brandRegistrations.list({ limit: 1000 });
  const mine = brands.filter((b) => b.a2pProfileBundleSid === a2pProfileBundleSid);
  // A rejected brand stays listed; a newer registration for the same profile supersedes it.
  const latest = mine.sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())[0];
  return latest ? brandState(latest) : null;
}

export async function registerBrand(
  client: TwilioClient,
  input: { customerProfileBundleSid: string; a2pProfileBundleSid: string; soleProprietor: boolean },
): Promise<ReviewState> {
  return brandState(
    await client.messaging.v1.brandRegistrations.create({
      customerProfileBundleSid: input.customerProfileBundleSid,
      a2PProfileBundleSid: input.a2pProfileBundleSid,
      brandType: input.soleProprietor ? 'SOLE_PROPRIETOR' : 'STANDARD',
    }),
  );
}

export async function fetchBrand(client: TwilioClient, sid: string): Promise<ReviewState> {
  return brandState(await client.messaging.v1.brandRegistrations(sid).fetch());
}

export async function findService(client: TwilioClient, friendlyName: string): Promise<string | null> {
  const services = await client.messaging.v1.services.list({ limit: 1000 });
  return services.find((s) => s.friendlyName === friendlyName)?.sid ?? null;
}

export async function createService(
  client: TwilioClient,
  input: { friendlyName: string; inboundRequestUrl: string; statusCallback: string },
): Promise<string> {
  const service = await client.messaging.v1.services.create({
    friendlyName: input.friendlyName,
    inboundRequestUrl: input.inboundRequestUrl,
    statusCallback: input.statusCallback,
    useInboundWebhookOnNumber: true,
  });
  return service.sid;
}

/** Puts the number in the service; a number already there counts as done. */
export async function addNumberToService(
  client: TwilioClient,
  serviceSid: string,
  numberSid: string,
): Promise<void> {
  const present = await client.messaging.v1.services(serviceSid).phoneNumbers.list({ limit: 1000 });
  if (present.some((p) => p.sid === numberSid)) return;
  await client.messaging.v1.services(serviceSid).phoneNumbers.create({ phoneNumberSid: numberSid });
}

export async function findCampaign(client: TwilioClient, serviceSid: string): Promise<ReviewState | null> {
  const campaigns = await client.messaging.v1.services(serviceSid).usAppToPerson.list({ limit: 20 });
  const first = campaigns[0];
  return first ? campaignState(first) : null;
}

export async function fetchCampaign(
  client: TwilioClient,
  serviceSid: string,
  sid: string,
): Promise<ReviewState> {
  return campaignState(await client.messaging.v1.services(serviceSid).usAppToPerson(sid).fetch());
}

export async function registerCampaign(
  client: TwilioClient,
  input: {
    serviceSid: string;
    brandSid: string;
    description: string;
    messageFlow: string;
    samples: string[];
    usecase: string;
  },
): Promise<ReviewState> {
  return campaignState(
    await client.messaging.v1.services(input.serviceSid).usAppToPerson.create({
      brandRegistrationSid: input.brandSid,
      description: input.description,
      messageFlow: input.messageFlow,
      messageSamples: input.samples,
      usAppToPersonUsecase: input.usecase,
      hasEmbeddedLinks: false,
      hasEmbeddedPhone: false,
    }),
  );
}
