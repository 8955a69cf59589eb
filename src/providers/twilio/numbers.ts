import type { TwilioClient } from './client.ts';

// The tenant's phone number at Twilio, through the SDK: search numbers in an area code, buy one,
// find the ones we bought for a tenant (tagged with its FriendlyName), point its webhooks at us,
// release it. Failures throw the SDK's error, for classifyTwilioError.
//
// A bought number carries the tenant's tag as FriendlyName, so a purchase whose answer never came
// back (a timeout after Twilio acted, a crash before our commit) is found by the next attempt
// instead of bought twice.

export type NumberWebhooks = { voiceUrl: string; smsUrl: string };

export type OwnedNumber = NumberWebhooks & { sid: string; phoneNumber: string; friendlyName: string };

/** Twilio's answer to buying a number someone else got first. */
export const NUMBER_NOT_AVAILABLE = 21422;

export const tenantNumberTag = (tenantId: string) => `nmc:${tenantId}`;

export function webhooksFor(baseUrl: string): NumberWebhooks {
  return { voiceUrl: `${baseUrl}/webhooks/twilio/voice`, smsUrl: `${baseUrl}/webhooks/twilio/sms` };
}

function owned(n: {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  smsUrl: string | null;
}): OwnedNumber {
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    friendlyName: n.friendlyName,
    voiceUrl: n.voiceUrl ?? '',
    smsUrl: n.smsUrl ?? '',
  };
}

export async function searchAvailableNumbers(
  client: TwilioClient,
  areaCode: string,
  limit = 10,
): Promise<string[]> {
  const found = await client.availablePhoneNumbers('US').local.list({ areaCode: Number(areaCode), limit });
  return found.map((n) => n.phoneNumber);
}

export async function buyNumber(
  client: TwilioClient,
  input: { phoneNumber: string; tag: string; webhooks: NumberWebhooks },
): Promise<OwnedNumber> {
  const n = await client.incomingPhoneNumbers.create({
    phoneNumber: input.phoneNumber,
    friendlyName: input.tag,
    voiceUrl: input.webhooks.voiceUrl,
    voiceMethod: 'POST',
    smsUrl: input.webhooks.smsUrl,
    smsMethod: 'POST',
  });
  return owned(n);
}

export async function findNumbersByTag(client: TwilioClient, tag: string): Promise<OwnedNumber[]> {
  return (await client.incomingPhoneNumbers.list({ friendlyName: tag, limit: 50 })).map(owned);
}

/** The number, or null when the account no longer owns it. */
export async function fetchNumber(client: TwilioClient, sid: string): Promise<OwnedNumber | null> {
  try {
    return owned(await client.incomingPhoneNumbers(sid).fetch());
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
}

export async function setNumberWebhooks(
  client: TwilioClient,
  sid: string,
  webhooks: NumberWebhooks,
): Promise<OwnedNumber> {
  return owned(
    await client.incomingPhoneNumbers(sid).update({
      voiceUrl: webhooks.voiceUrl,
      voiceMethod: 'POST',
      smsUrl: webhooks.smsUrl,
      smsMethod: 'POST',
    }),
  );
}

/** Releases the number; one already gone counts as released. */
export async function releaseNumber(client: TwilioClient, sid: string): Promise<void> {
  try {
    await client.incomingPhoneNumbers(sid).remove();
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
}
