import { z } from 'zod';
import type { AvailabilitySettings } from '../../domain/availability.ts';
import type { Queryable } from '../../persistence/db.ts';
import { loadSchedulingPolicyRows } from '../../persistence/repositories/scheduling/resources.ts';

// A tenant's scheduling rules: defaults here (the hold TTL's default is the HOLD_TTL_MINUTES
// configuration), overridden by `policy_values` rows keyed `scheduling.<field>` — the platform's
// (tenant_id NULL) first, then the tenant's own. As in src/domain/policy.ts, a stored value that
// fails its schema is skipped and the default kept, so a bad row never breaks booking.

export type SchedulingSettings = Required<AvailabilitySettings> & { hold_ttl_minutes: number };

const fieldSchemas = {
  slot_granularity_minutes: z.number().int().min(5).max(240),
  min_notice_minutes: z
    .number()
    .int()
    .min(0)
    .max(60 * 24 * 30),
  buffer_minutes: z.number().int().min(0).max(240),
  horizon_days: z.number().int().min(1).max(365),
  allow_same_day: z.boolean(),
  hold_ttl_minutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60),
} satisfies { [K in keyof SchedulingSettings]: z.ZodType<SchedulingSettings[K]> };

export const SCHEDULING_POLICY_PREFIX = 'scheduling.';

export function defaultSchedulingSettings(holdTtlMinutes: number): SchedulingSettings {
  return {
    slot_granularity_minutes: 30,
    min_notice_minutes: 60,
    buffer_minutes: 0,
    horizon_days: 14,
    allow_same_day: true,
    hold_ttl_minutes: fieldSchemas.hold_ttl_minutes.parse(holdTtlMinutes),
  };
}

/** Applies policy rows in order over the defaults; unknown keys and invalid values are skipped. */
export function resolveSchedulingSettings(
  rows: readonly { key: string; value: unknown }[],
  holdTtlMinutes: number,
): SchedulingSettings {
  const settings: Record<string, unknown> = { ...defaultSchedulingSettings(holdTtlMinutes) };
  for (const row of rows) {
    if (!row.key.startsWith(SCHEDULING_POLICY_PREFIX)) continue;
    const field = row.key.slice(SCHEDULING_POLICY_PREFIX.length);
    if (!Object.hasOwn(fieldSchemas, field)) continue;
    const parsed = fieldSchemas[field as keyof SchedulingSettings].safeParse(row.value);
    if (parsed.success) settings[field] = parsed.data;
  }
  return settings as SchedulingSettings;
}

export async function loadSchedulingSettings(
  db: Queryable,
  tenantId: string,
  defaults: { holdTtlMinutes: number },
): Promise<SchedulingSettings> {
  return resolveSchedulingSettings(await loadSchedulingPolicyRows(db, tenantId), defaults.holdTtlMinutes);
}
