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
  // A conversation whose appointment is booked has done its job: it closes after this much quiet,
  // so the inbox shows what is still open (the appointment stays).
  'conversation.booked_close_minutes': z
    .number()
    .int()
    .min(5)
    .max(60 * 24 * 30)
    .default(48 * 60),
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
  // Alert texts to the team: at most one per conversation per person in this window, at most
  // `alerts.hourly_cap` per person per hour, and a reminder every `alerts.repeat_minutes` while the
  // alert is not acknowledged, at most `alerts.max_repeats` times.
  'alerts.conversation_window_minutes': z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  'alerts.hourly_cap': z.number().int().min(1).max(60).default(6),
  'alerts.repeat_minutes': z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  'alerts.max_repeats': z.number().int().min(0).max(10).default(2),
  // Public booking (/api/public/:slug): wrong codes before the hold is released, and live public
  // holds one phone may have at once in one tenant.
  'public_booking.max_code_attempts': z.number().int().min(1).max(10).default(5),
  'public_booking.max_live_holds_per_phone': z.number().int().min(1).max(10).default(3),
  // Calendars (Google): how far ahead busy time is mirrored; when a calendar whose pushes went
  // quiet is polled instead; how long a push channel lives and how early it is renewed.
  'calendar.horizon_days': z.number().int().min(7).max(365).default(90),
  'calendar.poll_after_seconds': z
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(10 * 60),
  'calendar.channel_ttl_hours': z
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .default(7 * 24),
  'calendar.channel_renew_before_hours': z
    .number()
    .int()
    .min(0)
    .max(7 * 24)
    .default(24),
  // Appointment reminders by text: minutes before the start (whole days are calendar days), never
  // inside the quiet hours (local minutes of the day; start > end spans midnight).
  'reminders.offsets_minutes': z
    .array(
      z
        .number()
        .int()
        .min(15)
        .max(14 * 24 * 60),
    )
    .max(5)
    .default([24 * 60, 120]),
  'reminders.quiet_start_minute': z
    .number()
    .int()
    .min(0)
    .max(24 * 60 - 1)
    .default(21 * 60),
  'reminders.quiet_end_minute': z
    .number()
    .int()
    .min(0)
    .max(24 * 60 - 1)
    .default(8 * 60),
  // An appointment whose end passed this long ago with no outcome marked becomes completed; null = never.
  'outcomes.auto_complete_minutes': z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 60)
    .nullable()
    .default(4 * 60),
  // A thank-you text after an appointment is completed (the tenant's `followUp` template): off by default.
  'outcomes.follow_up_enabled': z.boolean().default(false),
  // How long a customer's portal link works (it also stops when the booking is cancelled).
  'portal.link_ttl_days': z.number().int().min(1).max(365).default(60),
  'retention.messages_days': z.number().int().min(1).default(180),
  'retention.metadata_days': z.number().int().min(1).default(396),
  'retention.webhook_events_days': z.number().int().min(1).default(90),
  'retention.outbox_days': z.number().int().min(1).default(30),
  // The reports (rep_*): 25 months, so a month can be set beside the same month a year before.
  'retention.reports_days': z.number().int().min(1).default(762),
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
