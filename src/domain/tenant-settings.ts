import { z } from 'zod';
import { DEFAULT_BUSINESS_HOURS, type WeeklyHours } from './business-hours.ts';
import { resolveTemplates, type Templates } from './templates.ts';

// A tenant's free-form settings (`id_tenants.settings`), read with defaults. Unknown keys are kept
// in storage but ignored here; invalid values fall back to the default.

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);
const hoursSchema = z.record(
  z.enum(['1', '2', '3', '4', '5', '6', '7']),
  z.array(z.object({ start: hhmm, end: hhmm })).max(6),
);

export type TenantSettings = {
  helpText: string;
  businessHours: WeeklyHours;
  templates: Templates;
  /** Whether /api/public/:slug answers for this tenant (off unless turned on). */
  publicBookingEnabled: boolean;
};

export function readTenantSettings(raw: unknown): TenantSettings {
  const settings = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const hours = hoursSchema.safeParse(settings.business_hours);
  const help = z.string().min(1).max(300).safeParse(settings.help_text);
  return {
    helpText: help.success ? help.data : 'Reply to this number to reach us.',
    businessHours: hours.success ? (hours.data as WeeklyHours) : DEFAULT_BUSINESS_HOURS,
    templates: resolveTemplates(settings.templates),
    publicBookingEnabled: settings.public_booking_enabled === true,
  };
}
