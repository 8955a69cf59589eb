import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';

// The wizard's calls, through the generated client: the draft, the phone's code, the numbers to
// pick from, and the checkout that makes the business.

export type Draft = components['schemas']['OnboardingDraft'];
export type Template = Draft['templates'][number]['template'];
export type Plan = 'starter' | 'pro';

export const loadDraft = () => unwrap(api.GET('/api/v1/onboarding', {}));

export const saveDraft = (body: {
  name?: string;
  slug?: string;
  time_zone?: string;
  template?: Template;
  twilio_number?: string | null;
}) => unwrap(api.PUT('/api/v1/onboarding', { body }));

export const sendCode = (phone: string) =>
  unwrap(api.POST('/api/v1/onboarding/phone/code', { body: { phone } }));

export const verifyCode = (code: string) =>
  unwrap(api.POST('/api/v1/onboarding/phone/verify', { body: { code } }));

export const findNumbers = (areaCode: string) =>
  unwrap(api.GET('/api/v1/onboarding/numbers', { params: { query: { area_code: areaCode } } }));

export async function startCheckout(plan: Plan): Promise<string> {
  const back = `${window.location.origin}/app/onboarding`;
  const session = await unwrap(
    api.POST('/api/v1/onboarding/checkout', {
      body: { plan, success_url: `${back}?checkout=success`, cancel_url: `${back}?checkout=canceled` },
    }),
  );
  return session.url;
}
