// What the sandbox account owns besides its messages: the phone numbers it bought (with their
// webhook URLs), the A2P 10DLC brand registrations, messaging services and their campaigns. Plain
// mutable maps, read by the numbers and A2P resources (numbers-api.ts, a2p-api.ts) and by tests
// (which also change them "behind our back" to make drift). Reviews are decided by the sandbox:
// after `reviewDelayMs` a brand or campaign is approved, unless a test scripted a rejection.

export type SandboxNumber = {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string;
  voiceMethod: string;
  smsUrl: string;
  smsMethod: string;
  statusCallback: string;
  dateCreated: Date;
  dateUpdated: Date;
};

export type ReviewStatus = 'PENDING' | 'APPROVED' | 'FAILED';

export type SandboxBrand = {
  sid: string;
  customerProfileBundleSid: string;
  a2pProfileBundleSid: string;
  brandType: string;
  /** When the review ends and with what; the status reads PENDING until then. */
  decideAt: number;
  decision: { status: 'APPROVED' } | { status: 'FAILED'; reason: string };
  dateCreated: Date;
};

export type SandboxService = {
  sid: string;
  friendlyName: string;
  inboundRequestUrl: string | null;
  statusCallback: string | null;
  /** Phone number sids in this service. */
  numbers: string[];
  dateCreated: Date;
};

export type SandboxCampaign = {
  sid: string;
  serviceSid: string;
  brandSid: string;
  description: string;
  messageFlow: string;
  messageSamples: string[];
  usecase: string;
  hasEmbeddedLinks: boolean;
  hasEmbeddedPhone: boolean;
  decideAt: number;
  decision: { status: 'VERIFIED' } | { status: 'FAILED'; reason: string };
  dateCreated: Date;
};

export type AccountResources = ReturnType<typeof createAccountResources>;

export function createAccountResources() {
  const numbers = new Map<string, SandboxNumber>();
  const brands = new Map<string, SandboxBrand>();
  const services = new Map<string, SandboxService>();
  const campaigns = new Map<string, SandboxCampaign>();
  /** Numbers someone else bought: never offered, never sold to us. */
  const takenElsewhere = new Set<string>();
  const scripted = {
    /** The next purchases fail with 21422 as if someone bought the number a moment earlier. */
    snatchNext: 0,
    brandRejections: [] as string[],
    campaignRejections: [] as string[],
    reviewDelayMs: 0,
  };

  return {
    numbers,
    brands,
    services,
    campaigns,
    takenElsewhere,
    scripted,
    /** A brand's status as a reader sees it now. */
    brandStatus(brand: SandboxBrand, at = Date.now()): { status: ReviewStatus; reason: string | null } {
      if (at < brand.decideAt) return { status: 'PENDING', reason: null };
      return brand.decision.status === 'FAILED'
        ? { status: 'FAILED', reason: brand.decision.reason }
        : { status: 'APPROVED', reason: null };
    },
    campaignStatus(
      campaign: SandboxCampaign,
      at = Date.now(),
    ): { status: 'PENDING' | 'VERIFIED' | 'FAILED'; reason: string | null } {
      if (at < campaign.decideAt) return { status: 'PENDING', reason: null };
      return campaign.decision.status === 'FAILED'
        ? { status: 'FAILED', reason: campaign.decision.reason }
        : { status: 'VERIFIED', reason: null };
    },
    reset(): void {
      numbers.clear();
      brands.clear();
      services.clear();
      campaigns.clear();
      takenElsewhere.clear();
      scripted.snatchNext = 0;
      scripted.brandRejections = [];
      scripted.campaignRejections = [];
      scripted.reviewDelayMs = 0;
    },
  };
}
