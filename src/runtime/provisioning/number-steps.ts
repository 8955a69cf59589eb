import type { NumberWish } from '../../domain/provisioning/desired-state.ts';
import { setTenantNumber } from '../../persistence/repositories/tenants.ts';
import {
  buyNumber,
  fetchNumber,
  findNumbersByTag,
  NUMBER_NOT_AVAILABLE,
  type OwnedNumber,
  releaseNumber,
  searchAvailableNumbers,
  setNumberWebhooks,
  tenantNumberTag,
  webhooksFor,
} from '../../providers/twilio/numbers.ts';
import type { StepResult, StepRun } from './provisioning-deps.ts';

// The phone-number steps: buy the number the desired state asks for (a given one, or one in an
// area code), point its webhooks at us, and release it when the tenant closes.
//
// What must stay true:
// - A tenant owns exactly one number. Every number we buy carries the tenant's tag; the step first
//   adopts a tagged number that fits (bought by an attempt whose answer was lost), and releases the
//   tagged numbers it does not keep (the old one after a change, or a second one a race bought).
// - A number taken between the search and the purchase (21422) is not an error: the next candidate
//   is tried.

const fits = (wish: NumberWish, n: OwnedNumber) =>
  wish.kind === 'given'
    ? n.phoneNumber === wish.phone_number
    : n.phoneNumber.startsWith(`+1${wish.area_code}`);

const notAvailable = (err: unknown) => (err as { code?: number }).code === NUMBER_NOT_AVAILABLE;

export async function ensureNumber(run: StepRun): Promise<StepResult> {
  const { twilio, webhookBaseUrl } = run.deps;
  const wish = run.desired.number;
  const tag = tenantNumberTag(run.tenantId);
  const tagged = await findNumbersByTag(twilio, tag);
  const previousSid = run.previous.number_sid;
  let keep =
    tagged.find((n) => n.sid === previousSid && fits(wish, n)) ?? tagged.find((n) => fits(wish, n)) ?? null;
  if (keep === null) {
    const candidates =
      wish.kind === 'given' ? [wish.phone_number] : await searchAvailableNumbers(twilio, wish.area_code);
    for (const phoneNumber of candidates) {
      try {
        keep = await buyNumber(twilio, { phoneNumber, tag, webhooks: webhooksFor(webhookBaseUrl) });
        break;
      } catch (err) {
        if (!notAvailable(err)) throw err;
      }
    }
    if (keep === null) {
      // A given number someone else owns will not become free by retrying.
      const permanent = wish.kind === 'given';
      throw Object.assign(
        new Error(`no number available (${wish.kind === 'given' ? wish.phone_number : wish.area_code})`),
        {
          permanent,
        },
      );
    }
  }
  for (const other of tagged) if (other.sid !== keep.sid) await releaseNumber(twilio, other.sid);
  const chosen = keep;
  return {
    status: 'done',
    outputs: { number_sid: chosen.sid, phone_number: chosen.phoneNumber },
    commit: (client) => setTenantNumber(client, run.tenantId, chosen.phoneNumber),
  };
}

export async function ensureNumberWebhooks(run: StepRun): Promise<StepResult> {
  const sid = run.input.number_sid;
  if (typeof sid !== 'string') throw Object.assign(new Error('no number yet'), { permanent: true });
  const wanted = webhooksFor(run.deps.webhookBaseUrl);
  const number = await fetchNumber(run.deps.twilio, sid);
  if (number === null) throw Object.assign(new Error(`number ${sid} is no longer ours`), { permanent: true });
  if (number.voiceUrl !== wanted.voiceUrl || number.smsUrl !== wanted.smsUrl) {
    await setNumberWebhooks(run.deps.twilio, sid, wanted);
  }
  return { status: 'done', outputs: { voice_url: wanted.voiceUrl, sms_url: wanted.smsUrl } };
}

export async function releaseTenantNumbers(run: StepRun): Promise<StepResult> {
  const { twilio } = run.deps;
  const released: string[] = [];
  const sid = run.input.number_sid;
  if (typeof sid === 'string') {
    await releaseNumber(twilio, sid);
    released.push(sid);
  }
  for (const n of await findNumbersByTag(twilio, tenantNumberTag(run.tenantId))) {
    await releaseNumber(twilio, n.sid);
    released.push(n.sid);
  }
  return {
    status: 'done',
    outputs: { released: [...new Set(released)] },
    commit: (client) => setTenantNumber(client, run.tenantId, null),
  };
}
