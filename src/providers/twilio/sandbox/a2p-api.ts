import type { AccountResources, SandboxBrand, SandboxCampaign, SandboxService } from './account-resources.ts';
import { type Answer, all, errorAnswer, first } from './messages-api.ts';
import { newSid } from './sids.ts';
import type { FormParams } from './traffic-store.ts';

// Twilio's A2P 10DLC registration as the sandbox serves it on the Messaging v1 API
// (messaging.twilio.com/v1): brand registrations, messaging services with their phone numbers, and
// the service's US A2P campaign (Compliance/Usa2p). Lists use v1's page shape, `{ meta: { key },
// [key]: [...] }`, which the SDK reads. Brands and campaigns start PENDING; the review outcome is
// the sandbox's (account-resources.ts): approved after the review delay unless a test scripted a
// rejection, whose reason comes back as `failure_reason` / `errors` as Twilio reports them.

const BRANDS = /^\/v1\/a2p\/BrandRegistrations$/;
const BRAND = /^\/v1\/a2p\/BrandRegistrations\/([^/]+)$/;
const SERVICES = /^\/v1\/Services$/;
const SERVICE = /^\/v1\/Services\/([^/]+)$/;
const SERVICE_NUMBERS = /^\/v1\/Services\/([^/]+)\/PhoneNumbers$/;
const SERVICE_NUMBER = /^\/v1\/Services\/([^/]+)\/PhoneNumbers\/([^/]+)$/;
const CAMPAIGNS = /^\/v1\/Services\/([^/]+)\/Compliance\/Usa2p$/;
const CAMPAIGN = /^\/v1\/Services\/([^/]+)\/Compliance\/Usa2p\/([^/]+)$/;
const BASE = 'https://messaging.twilio.com/v1';

const ok = (status: number, body: unknown): Answer => ({ status, body, code: null, messageSid: null });

function v1Page(path: string, key: string, items: unknown[]) {
  const url = `${BASE}${path}?PageSize=50&Page=0`;
  return {
    meta: {
      page: 0,
      page_size: 50,
      first_page_url: url,
      previous_page_url: null,
      url,
      next_page_url: null,
      key,
    },
    [key]: items,
  };
}

export function createA2pApi(deps: { accountSid: string; resources: AccountResources }) {
  const { accountSid, resources } = deps;

  function brandResource(b: SandboxBrand): Record<string, unknown> {
    const { status, reason } = resources.brandStatus(b);
    return {
      sid: b.sid,
      account_sid: accountSid,
      customer_profile_bundle_sid: b.customerProfileBundleSid,
      a2p_profile_bundle_sid: b.a2pProfileBundleSid,
      date_created: b.dateCreated.toISOString(),
      date_updated: b.dateCreated.toISOString(),
      brand_type: b.brandType,
      status,
      tcr_id: `B${b.sid.slice(2, 8).toUpperCase()}`,
      failure_reason: reason,
      errors: reason === null ? [] : [{ code: 30795, description: reason }],
      url: `${BASE}/a2p/BrandRegistrations/${b.sid}`,
      brand_score: status === 'APPROVED' ? 80 : null,
      brand_feedback: null,
      identity_status: status === 'APPROVED' ? 'VERIFIED' : 'UNVERIFIED',
      russell_3000: false,
      government_entity: false,
      tax_exempt_status: null,
      skip_automatic_sec_vet: false,
      mock: false,
      links: {
        brand_vettings: `${BASE}/a2p/BrandRegistrations/${b.sid}/Vettings`,
        brand_registration_otps: `${BASE}/a2p/BrandRegistrations/${b.sid}/SmsOtp`,
      },
    };
  }

  function serviceResource(s: SandboxService): Record<string, unknown> {
    const registered = [...resources.campaigns.values()].some(
      (c) => c.serviceSid === s.sid && resources.campaignStatus(c).status === 'VERIFIED',
    );
    return {
      sid: s.sid,
      account_sid: accountSid,
      friendly_name: s.friendlyName,
      date_created: s.dateCreated.toISOString(),
      date_updated: s.dateCreated.toISOString(),
      inbound_request_url: s.inboundRequestUrl,
      inbound_method: 'POST',
      fallback_url: null,
      fallback_method: 'POST',
      status_callback: s.statusCallback,
      sticky_sender: true,
      mms_converter: true,
      smart_encoding: true,
      scan_message_content: 'inherit',
      fallback_to_long_code: true,
      area_code_geomatch: true,
      synchronous_validation: false,
      validity_period: 14400,
      url: `${BASE}/Services/${s.sid}`,
      links: {
        phone_numbers: `${BASE}/Services/${s.sid}/PhoneNumbers`,
        us_app_to_person: `${BASE}/Services/${s.sid}/Compliance/Usa2p`,
      },
      usecase: 'undeclared',
      us_app_to_person_registered: registered,
      use_inbound_webhook_on_number: true,
    };
  }

  function serviceNumberResource(s: SandboxService, numberSid: string): Record<string, unknown> {
    const number = resources.numbers.get(numberSid);
    return {
      sid: numberSid,
      account_sid: accountSid,
      service_sid: s.sid,
      date_created: s.dateCreated.toISOString(),
      date_updated: s.dateCreated.toISOString(),
      phone_number: number?.phoneNumber ?? null,
      country_code: 'US',
      capabilities: ['SMS', 'MMS', 'Voice'],
      url: `${BASE}/Services/${s.sid}/PhoneNumbers/${numberSid}`,
    };
  }

  function campaignResource(c: SandboxCampaign): Record<string, unknown> {
    const { status, reason } = resources.campaignStatus(c);
    return {
      sid: c.sid,
      account_sid: accountSid,
      brand_registration_sid: c.brandSid,
      messaging_service_sid: c.serviceSid,
      description: c.description,
      message_samples: c.messageSamples,
      us_app_to_person_usecase: c.usecase,
      has_embedded_links: c.hasEmbeddedLinks,
      has_embedded_phone: c.hasEmbeddedPhone,
      subscriber_opt_in: true,
      age_gated: false,
      direct_lending: false,
      campaign_status: status,
      campaign_id: status === 'VERIFIED' ? `C${c.sid.slice(2, 8).toUpperCase()}` : null,
      is_externally_registered: false,
      rate_limits: status === 'VERIFIED' ? { att: { mps: '4', msg_class: 'T' } } : {},
      message_flow: c.messageFlow,
      opt_in_message: null,
      opt_out_message: null,
      help_message: null,
      opt_in_keywords: null,
      opt_out_keywords: null,
      help_keywords: null,
      date_created: c.dateCreated.toISOString(),
      date_updated: c.dateCreated.toISOString(),
      url: `${BASE}/Services/${c.serviceSid}/Compliance/Usa2p/${c.sid}`,
      mock: false,
      errors: reason === null ? [] : [{ error_code: 30896, description: reason }],
    };
  }

  function createBrand(params: FormParams): Answer {
    const customer = first(params, 'CustomerProfileBundleSid');
    const profile = first(params, 'A2PProfileBundleSid');
    if (!customer) return errorAnswer(400, 20001, 'Missing required parameter CustomerProfileBundleSid');
    if (!profile) return errorAnswer(400, 20001, 'Missing required parameter A2PProfileBundleSid');
    const rejection = resources.scripted.brandRejections.shift();
    const brand: SandboxBrand = {
      sid: newSid('BN'),
      customerProfileBundleSid: customer,
      a2pProfileBundleSid: profile,
      brandType: first(params, 'BrandType') ?? 'STANDARD',
      decideAt: Date.now() + resources.scripted.reviewDelayMs,
      decision: rejection === undefined ? { status: 'APPROVED' } : { status: 'FAILED', reason: rejection },
      dateCreated: new Date(),
    };
    resources.brands.set(brand.sid, brand);
    return ok(201, brandResource(brand));
  }

  function createService(params: FormParams): Answer {
    const name = first(params, 'FriendlyName');
    if (!name) return errorAnswer(400, 20001, 'Missing required parameter FriendlyName');
    const service: SandboxService = {
      sid: newSid('MG'),
      friendlyName: name,
      inboundRequestUrl: first(params, 'InboundRequestUrl') ?? null,
      statusCallback: first(params, 'StatusCallback') ?? null,
      numbers: [],
      dateCreated: new Date(),
    };
    resources.services.set(service.sid, service);
    return ok(201, serviceResource(service));
  }

  function addNumber(service: SandboxService, params: FormParams): Answer {
    const sid = first(params, 'PhoneNumberSid');
    if (!sid || !resources.numbers.has(sid)) return errorAnswer(400, 21710, 'Phone Number Sid is invalid');
    if (service.numbers.includes(sid)) {
      return errorAnswer(409, 21710, 'Phone Number or Short Code is already in the Messaging Service.');
    }
    const elsewhere = [...resources.services.values()].find((s) => s.numbers.includes(sid));
    if (elsewhere) {
      return errorAnswer(409, 21712, 'Phone Number is already associated with another Messaging Service.');
    }
    service.numbers.push(sid);
    return ok(201, serviceNumberResource(service, sid));
  }

  function createCampaign(service: SandboxService, params: FormParams): Answer {
    const brandSid = first(params, 'BrandRegistrationSid');
    const brand = brandSid === undefined ? undefined : resources.brands.get(brandSid);
    if (!brand) return errorAnswer(400, 21701, 'The BrandRegistrationSid is invalid');
    if (resources.brandStatus(brand).status !== 'APPROVED') {
      return errorAnswer(400, 21708, 'The brand registration is not approved');
    }
    if ([...resources.campaigns.values()].some((c) => c.serviceSid === service.sid)) {
      return errorAnswer(409, 21711, 'This Messaging Service already has an A2P campaign.');
    }
    const samples = all(params, 'MessageSamples');
    if (samples.length < 2) return errorAnswer(400, 21713, 'At least two MessageSamples are required');
    const rejection = resources.scripted.campaignRejections.shift();
    const campaign: SandboxCampaign = {
      sid: newSid('QE'),
      serviceSid: service.sid,
      brandSid: brand.sid,
      description: first(params, 'Description') ?? '',
      messageFlow: first(params, 'MessageFlow') ?? '',
      messageSamples: samples,
      usecase: first(params, 'UsAppToPersonUsecase') ?? 'MIXED',
      hasEmbeddedLinks: first(params, 'HasEmbeddedLinks') === 'true',
      hasEmbeddedPhone: first(params, 'HasEmbeddedPhone') === 'true',
      decideAt: Date.now() + resources.scripted.reviewDelayMs,
      decision: rejection === undefined ? { status: 'VERIFIED' } : { status: 'FAILED', reason: rejection },
      dateCreated: new Date(),
    };
    resources.campaigns.set(campaign.sid, campaign);
    return ok(201, campaignResource(campaign));
  }

  /** The answer for a Messaging v1 path, or null when the path is not one of these resources. */
  return function route(method: string, path: string, params: FormParams): Answer | null {
    if (!path.startsWith('/v1/')) return null;
    const notAllowed = () => errorAnswer(405, 20004, 'Method not allowed');
    if (BRANDS.test(path)) {
      if (method === 'POST') return createBrand(params);
      if (method === 'GET')
        return ok(
          200,
          v1Page('/a2p/BrandRegistrations', 'data', [...resources.brands.values()].map(brandResource)),
        );
      return notAllowed();
    }
    const brandSid = BRAND.exec(path)?.[1];
    if (brandSid !== undefined) {
      const brand = resources.brands.get(brandSid);
      if (!brand) return errorAnswer(404, 20404);
      return method === 'GET' ? ok(200, brandResource(brand)) : notAllowed();
    }
    if (SERVICES.test(path)) {
      if (method === 'POST') return createService(params);
      if (method === 'GET')
        return ok(
          200,
          v1Page('/Services', 'services', [...resources.services.values()].map(serviceResource)),
        );
      return notAllowed();
    }
    const serviceSid =
      SERVICE.exec(path)?.[1] ??
      SERVICE_NUMBERS.exec(path)?.[1] ??
      SERVICE_NUMBER.exec(path)?.[1] ??
      CAMPAIGNS.exec(path)?.[1] ??
      CAMPAIGN.exec(path)?.[1];
    if (serviceSid === undefined) return errorAnswer(404, 20404);
    const service = resources.services.get(serviceSid);
    if (!service) return errorAnswer(404, 20404);
    if (SERVICE.test(path)) {
      if (method === 'GET') return ok(200, serviceResource(service));
      if (method === 'DELETE') {
        resources.services.delete(service.sid);
        return ok(204, null);
      }
      return notAllowed();
    }
    if (SERVICE_NUMBERS.test(path)) {
      if (method === 'POST') return addNumber(service, params);
      if (method === 'GET') {
        const items = service.numbers.map((sid) => serviceNumberResource(service, sid));
        return ok(200, v1Page(`/Services/${service.sid}/PhoneNumbers`, 'phone_numbers', items));
      }
      return notAllowed();
    }
    const numberSid = SERVICE_NUMBER.exec(path)?.[2];
    if (numberSid !== undefined) {
      if (!service.numbers.includes(numberSid)) return errorAnswer(404, 20404);
      if (method === 'GET') return ok(200, serviceNumberResource(service, numberSid));
      if (method === 'DELETE') {
        service.numbers = service.numbers.filter((s) => s !== numberSid);
        return ok(204, null);
      }
      return notAllowed();
    }
    const mine = () => [...resources.campaigns.values()].filter((c) => c.serviceSid === service.sid);
    if (CAMPAIGNS.test(path)) {
      if (method === 'POST') return createCampaign(service, params);
      if (method === 'GET') {
        return ok(
          200,
          v1Page(`/Services/${service.sid}/Compliance/Usa2p`, 'compliance', mine().map(campaignResource)),
        );
      }
      return notAllowed();
    }
    const campaign = resources.campaigns.get(CAMPAIGN.exec(path)?.[2] ?? '');
    if (!campaign || campaign.serviceSid !== service.sid) return errorAnswer(404, 20404);
    if (method === 'GET') return ok(200, campaignResource(campaign));
    if (method === 'DELETE') {
      resources.campaigns.delete(campaign.sid);
      return ok(204, null);
    }
    return notAllowed();
  };
}
