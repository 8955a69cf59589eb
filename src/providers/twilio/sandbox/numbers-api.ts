import type { AccountResources, SandboxNumber } from './account-resources.ts';
import { API_VERSION, rfc2822 } from './message-resource.ts';
import { type Answer, errorAnswer, first } from './messages-api.ts';
import { newSid } from './sids.ts';
import type { FormParams } from './traffic-store.ts';

// Twilio's phone-number resources as the sandbox serves them: the search for numbers to buy
// (GET AvailablePhoneNumbers/US/Local.json?AreaCode=), and the account's own numbers
// (IncomingPhoneNumbers: buy, list by PhoneNumber/FriendlyName, fetch, update the webhook URLs,
// release). The JSON is Twilio's, field for field where the SDK reads it.
//
// The numbers offered in an area code are the fictional 555-01xx block of that area code, minus
// those this account owns and those "someone else" bought (a scripted snatch). Buying one that is
// not available answers 400 with 21422, as Twilio does.

const AVAILABLE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/AvailablePhoneNumbers\/US\/Local\.json$/;
const INCOMING_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/IncomingPhoneNumbers\.json$/;
const INCOMING_ONE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/IncomingPhoneNumbers\/([^/]+)\.json$/;
const NOT_AVAILABLE = 21422;

function friendly(e164: string): string {
  const d = e164.slice(2);
  return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

export function incomingNumberResource(accountSid: string, n: SandboxNumber): Record<string, unknown> {
  return {
    account_sid: accountSid,
    address_requirements: 'none',
    address_sid: null,
    api_version: API_VERSION,
    beta: false,
    bundle_sid: null,
    capabilities: { fax: false, mms: true, sms: true, voice: true },
    date_created: rfc2822(n.dateCreated),
    date_updated: rfc2822(n.dateUpdated),
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    emergency_status: 'Inactive',
    friendly_name: n.friendlyName,
    identity_sid: null,
    origin: 'twilio',
    phone_number: n.phoneNumber,
    sid: n.sid,
    sms_application_sid: '',
    sms_fallback_method: 'POST',
    sms_fallback_url: '',
    sms_method: n.smsMethod,
    sms_url: n.smsUrl,
    status: 'in-use',
    status_callback: n.statusCallback,
    status_callback_method: 'POST',
    subresource_uris: {
      assigned_add_ons: `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${n.sid}/AssignedAddOns.json`,
    },
    trunk_sid: null,
    type: 'local',
    uri: `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: 'POST',
    voice_fallback_url: null,
    voice_method: n.voiceMethod,
    voice_receive_mode: 'voice',
    voice_url: n.voiceUrl,
  };
}

function page(accountSid: string, resource: string, key: string, items: unknown[], query: URLSearchParams) {
  const uri = `/${API_VERSION}/Accounts/${accountSid}/${resource}?${query}`;
  return {
    [key]: items,
    end: Math.max(items.length - 1, 0),
    first_page_uri: uri,
    next_page_uri: null,
    page: 0,
    page_size: Math.max(items.length, 50),
    previous_page_uri: null,
    start: 0,
    uri,
  };
}

export function createNumbersApi(deps: { accountSid: string; resources: AccountResources }) {
  const { accountSid, resources } = deps;
  const owned = () => [...resources.numbers.values()];
  const isTaken = (e164: string) =>
    resources.takenElsewhere.has(e164) || owned().some((n) => n.phoneNumber === e164);

  function available(areaCode: string): string[] {
    const numbers: string[] = [];
    for (let i = 100; i < 200; i += 1) {
      const e164 = `+1${areaCode}555${String(i).padStart(4, '0')}`;
      if (!isTaken(e164)) numbers.push(e164);
    }
    return numbers;
  }

  function search(query: URLSearchParams): Answer {
    const areaCode = query.get('AreaCode');
    if (areaCode === null || !/^[2-9]\d{2}$/.test(areaCode)) {
      return errorAnswer(400, 21452, 'No numbers found: give an AreaCode');
    }
    const size = Math.min(Number(query.get('PageSize') ?? 20) || 20, 50);
    const items = available(areaCode)
      .slice(0, size)
      .map((e164) => ({
        address_requirements: 'none',
        beta: false,
        capabilities: { MMS: true, SMS: true, voice: true },
        friendly_name: friendly(e164),
        iso_country: 'US',
        lata: '722',
        latitude: '37.780000',
        locality: 'Sandbox',
        longitude: '-122.420000',
        phone_number: e164,
        postal_code: null,
        rate_center: 'SANDBOX',
        region: 'CA',
      }));
    return {
      status: 200,
      body: page(accountSid, 'AvailablePhoneNumbers/US/Local.json', 'available_phone_numbers', items, query),
      code: null,
      messageSid: null,
    };
  }

  function applyUrls(n: SandboxNumber, params: FormParams): SandboxNumber {
    const set = (key: string, fallback: string) => first(params, key) ?? fallback;
    return {
      ...n,
      friendlyName: set('FriendlyName', n.friendlyName),
      voiceUrl: set('VoiceUrl', n.voiceUrl),
      voiceMethod: set('VoiceMethod', n.voiceMethod),
      smsUrl: set('SmsUrl', n.smsUrl),
      smsMethod: set('SmsMethod', n.smsMethod),
      statusCallback: set('StatusCallback', n.statusCallback),
      dateUpdated: new Date(),
    };
  }

  function buy(params: FormParams): Answer {
    let e164 = first(params, 'PhoneNumber');
    const areaCode = first(params, 'AreaCode');
    if (e164 === undefined && areaCode !== undefined) e164 = available(areaCode)[0];
    if (e164 === undefined) return errorAnswer(400, 21421, 'PhoneNumber or AreaCode is required.');
    if (!/^\+1[2-9]\d{9}$/.test(e164)) return errorAnswer(400, 21421, 'PhoneNumber is invalid.');
    if (resources.scripted.snatchNext > 0 && !isTaken(e164)) {
      resources.scripted.snatchNext -= 1;
      resources.takenElsewhere.add(e164);
    }
    if (isTaken(e164)) {
      return errorAnswer(400, NOT_AVAILABLE, `Phone number ${friendly(e164)} is not available.`);
    }
    const at = new Date();
    const number = applyUrls(
      {
        sid: newSid('PN'),
        phoneNumber: e164,
        friendlyName: friendly(e164),
        voiceUrl: '',
        voiceMethod: 'POST',
        smsUrl: '',
        smsMethod: 'POST',
        statusCallback: '',
        dateCreated: at,
        dateUpdated: at,
      },
      params,
    );
    resources.numbers.set(number.sid, number);
    return { status: 201, body: incomingNumberResource(accountSid, number), code: null, messageSid: null };
  }

  function list(query: URLSearchParams): Answer {
    const phone = query.get('PhoneNumber');
    const name = query.get('FriendlyName');
    const items = owned()
      .filter(
        (n) => (phone === null || n.phoneNumber === phone) && (name === null || n.friendlyName === name),
      )
      .map((n) => incomingNumberResource(accountSid, n));
    return {
      status: 200,
      body: page(accountSid, 'IncomingPhoneNumbers.json', 'incoming_phone_numbers', items, query),
      code: null,
      messageSid: null,
    };
  }

  /** The answer for a numbers path, or null when the path is not one of these resources. */
  return function route(
    method: string,
    path: string,
    query: URLSearchParams,
    params: FormParams,
  ): Answer | null {
    const searchPath = AVAILABLE_PATH.exec(path);
    const incoming = INCOMING_PATH.exec(path);
    const one = INCOMING_ONE_PATH.exec(path);
    const pathAccount = searchPath?.[1] ?? incoming?.[1] ?? one?.[1];
    if (pathAccount === undefined) return null;
    if (pathAccount !== accountSid) return errorAnswer(404, 20404);
    if (searchPath) return method === 'GET' ? search(query) : errorAnswer(405, 20004, 'Method not allowed');
    if (incoming) {
      if (method === 'GET') return list(query);
      if (method === 'POST') return buy(params);
      return errorAnswer(405, 20004, 'Method not allowed');
    }
    const sid = one?.[2] ?? '';
    const number = resources.numbers.get(sid);
    if (number === undefined) return errorAnswer(404, 20404);
    if (method === 'GET') {
      return { status: 200, body: incomingNumberResource(accountSid, number), code: null, messageSid: null };
    }
    if (method === 'POST') {
      const updated = applyUrls(number, params);
      resources.numbers.set(sid, updated);
      return { status: 200, body: incomingNumberResource(accountSid, updated), code: null, messageSid: null };
    }
    if (method === 'DELETE') {
      resources.numbers.delete(sid);
      for (const service of resources.services.values()) {
        service.numbers = service.numbers.filter((s) => s !== sid);
      }
      return { status: 204, body: null, code: null, messageSid: null };
    }
    return errorAnswer(405, 20004, 'Method not allowed');
  };
}
