import { z } from 'zod';
import { DEFAULT_BUSINESS_HOURS, type WeeklyHours } from './business-hours.ts';
import { resolveTemplates, type Templates } from './templates.ts';
import type { Trade } from './understanding/understanding.ts';

// A tenant's free-form settings (`id_tenants.settings`), read with defaults. Unknown keys are kept
// in storage but ignored here; invalid values fall back to the default.

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);
const hoursSchema = z.partialRecord(
  z.enum(['1', '2', '3', '4', '5', '6', '7']),
  z.array(z.object({ start: hhmm, end: hhmm })).max(6),
);

export type TenantSettings = {
  helpText: string;
  businessHours: WeeklyHours;
  templates: Templates;
  /** Whether /api/public/:slug answers for this tenant (off unless turned on). */
  publicBookingEnabled: boolean;
  /** The business's trade: which synonyms, out-of-scope words and safety steps apply. */
  trade: Trade;
  /** How times are written (`en-US` 12 h, month first; `en-GB` 24 h, day first). */
  locale: string;
  /** Texts arriving within this many seconds of each other are read together and answered once. */
  replyDelaySeconds: number;
};

/** Long enough for a caller's burst of short texts, short enough not to feel slow. */
export const DEFAULT_REPLY_DELAY_SECONDS = 4;

export function readTenantSettings(raw: unknown): TenantSettings {
  const settings = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const hours = hoursSchema.safeParse(settings.business_hours);
  const help = z.string().min(1).max(300).safeParse(settings.help_text);
  const trade = z.enum(['plumbing', 'hvac', 'electrical', 'cleaning']).safeParse(settings.trade);
  const locale = z
    .string()
    .regex(/^[a-z]{2}(-[A-Z]{2})?$/)
    .safeParse(settings.locale);
  const delay = z.number().int().min(0).max(60).safeParse(settings.reply_delay_seconds);
  return {
    helpText: help.success ? help.data : 'Reply to this number to reach us.',
    businessHours: hours.success ? (hours.data as WeeklyHours) : DEFAULT_BUSINESS_HOURS,
    templates: resolveTemplates(settings.templates),
    publicBookingEnabled: settings.public_booking_enabled === true,
    trade: trade.success ? trade.data : 'plumbing',
    locale: locale.success ? locale.data : 'en-US',
    replyDelaySeconds: delay.success ? delay.data : DEFAULT_REPLY_DELAY_SECONDS,
  };
}
