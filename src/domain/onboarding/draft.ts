import { z } from 'zod';
import type { Plan } from '../feature-gates.ts';
import type { TradeTemplate } from '../provisioning/trade-templates.ts';

// What an onboarding draft holds and what it still lacks before the owner-to-be may pay. Pure.

export type OnboardingDraft = {
  authOrgId: string;
  tenantId: string;
  startedBy: string;
  name: string | null;
  slug: string | null;
  timeZone: string | null;
  template: TradeTemplate | null;
  twilioNumber: string | null;
  forwardingPhone: string | null;
  phoneVerifiedAt: Date | null;
  plan: Plan | null;
  checkoutSessionId: string | null;
  checkoutUrl: string | null;
  completedAt: Date | null;
};

export const MISSING_ITEMS = ['name', 'slug', 'time_zone', 'forwarding_phone', 'phone_verified'] as const;
export type MissingItem = (typeof MISSING_ITEMS)[number];

/** What must still be given before Checkout (the template defaults, the number comes from an area code). */
export function missingBeforeCheckout(draft: OnboardingDraft): MissingItem[] {
  const missing: MissingItem[] = [];
  if (!draft.name) missing.push('name');
  if (!draft.slug) missing.push('slug');
  if (!draft.timeZone) missing.push('time_zone');
  if (!draft.forwardingPhone) missing.push('forwarding_phone');
  else if (!draft.phoneVerifiedAt) missing.push('phone_verified');
  return missing;
}

export type OnboardingStage = 'draft' | 'checkout' | 'complete';

export function stageOf(draft: OnboardingDraft): OnboardingStage {
  if (draft.completedAt) return 'complete';
  if (draft.checkoutSessionId) return 'checkout';
  return 'draft';
}

/** A slug taken at payment time (another business got it first): the paid-for tenant gets a suffixed one. */
export function fallbackSlug(slug: string, tenantId: string): string {
  return `${slug.slice(0, 56)}-${tenantId.slice(0, 6)}`;
}

export const slugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/)
  .describe('lowercase letters, digits and dashes; the public booking page lives under it');

function isZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(100)
  .refine(isZone, 'an IANA time zone such as America/New_York')
  .describe('IANA zone, e.g. America/New_York');
