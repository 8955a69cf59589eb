import { z } from 'zod';

// Business constants: defaults here, overridden by `policy_values` rows (platform-wide rows with a
// NULL tenant, then the tenant's own). One schema validates the stored values, so a bad row is
// ignored (with its default kept) rather than breaking a conversation.

export const policySchema = z.object({
  'conversation.greeting_window_minutes': z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(60),
  'conversation.inactivity_close_minutes': z
    .number()
    .int()
    .min(5)
    .max(60 * 24 * 30)
    .default(24 * 60),
  'conversation.human_idle_release_minutes': z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 7)
    .nullable()
    .default(null),
  'conversation.max_misunderstandings': z.number().int().min(1).max(10).default(3),
  'calls.min_ring_seconds': z.number().int().min(0).max(120).default(4),
  'calls.dial_timeout_seconds': z.number().int().min(5).max(60).default(18),
  'sms.max_attempts': z.number().int().min(1).max(10).default(6),
  'retention.messages_days': z.number().int().min(1).default(180),
  'retention.metadata_days': z.number().int().min(1).default(396),
  'retention.webhook_events_days': z.number().int().min(1).default(90),
  'retention.outbox_days': z.number().int().min(1).default(30),
});

export type Policy = z.output<typeof policySchema>;
export type PolicyKey = keyof Policy;

export const POLICY_DEFAULTS: Policy = policySchema.parse({});

/** Applies rows in order (platform first, then tenant); values that fail their schema are skipped. */
export function resolvePolicy(rows: { key: string; value: unknown }[]): Policy {
  const merged: Record<string, unknown> = { ...POLICY_DEFAULTS };
  for (const row of rows) {
    if (!Object.hasOwn(policySchema.shape, row.key)) continue;
    const field = policySchema.shape[row.key as PolicyKey];
    const parsed = field.safeParse(row.value);
    if (parsed.success) merged[row.key] = parsed.data;
  }
  return merged as Policy;
}
