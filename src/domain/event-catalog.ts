import { z } from 'zod';
import { ALERT_REASONS } from './alert-reasons.ts';

// The event catalog: one Zod schema per event name and schema_version. It is the contract between
// modules; every outbox write is validated against it (src/runtime/outbox.ts), and so are dead letters.

const conversationRef = { conversation_id: z.uuid() };
const operatorId = z.string().min(1).max(200).nullable();
const appointmentFacts = {
  appointment_id: z.uuid(),
  resource_id: z.uuid(),
  service_id: z.uuid(),
  conversation_id: z.uuid().nullable(),
  start: z.string(),
  end: z.string(),
  /** The service's price when the change was made (reports count revenue with it); absent in older events. */
  price_cents: z.number().int().nullable().optional(),
};

export const EVENT_CATALOG = {
  'nmc.conversation.ConversationStarted': { version: 1, payload: z.object({ ...conversationRef }) },
  'nmc.conversation.StateChanged': {
    version: 1,
    payload: z.object({ ...conversationRef, from: z.string(), to: z.string(), cause: z.string() }),
  },
  'nmc.conversation.MissedCallRecorded': {
    version: 1,
    payload: z.object({ ...conversationRef, call_sid: z.string() }),
  },
  'nmc.conversation.MessageReceived': {
    version: 1,
    payload: z.object({ ...conversationRef, message_id: z.uuid() }),
  },
  'nmc.conversation.MessageQueued': {
    version: 1,
    payload: z.object({ ...conversationRef, message_id: z.uuid(), purpose: z.string() }),
  },
  'nmc.conversation.SendSuppressed': {
    version: 1,
    payload: z.object({ ...conversationRef, purpose: z.string(), reason: z.string() }),
  },
  'nmc.conversation.HumanTookOver': {
    version: 1,
    payload: z.object({ ...conversationRef, operator_id: z.string(), previous: operatorId }),
  },
  'nmc.conversation.HumanReleased': {
    version: 1,
    payload: z.object({ ...conversationRef, operator_id: operatorId, idle: z.boolean() }),
  },
  'nmc.conversation.ConversationClosed': {
    version: 1,
    payload: z.object({ ...conversationRef, by: operatorId, reason: z.string() }),
  },
  'nmc.conversation.OptedOut': { version: 1, payload: z.object({ ...conversationRef, source: z.string() }) },
  'nmc.conversation.OptedIn': { version: 1, payload: z.object({ ...conversationRef }) },
  'nmc.conversation.Blocked': { version: 1, payload: z.object({ ...conversationRef, reason: z.string() }) },
  'nmc.conversation.Unblocked': { version: 1, payload: z.object({ ...conversationRef, reason: z.string() }) },
  'nmc.conversation.InboundWhileBlocked': { version: 1, payload: z.object({ ...conversationRef }) },
  'nmc.conversation.OperatorAttentionNeeded': {
    version: 1,
    // Typed reasons only (src/domain/alert-reasons.ts): an alert always means something to act on.
    payload: z.object({ ...conversationRef, reason: z.enum(ALERT_REASONS) }),
  },
  'nmc.conversation.SnapshotUnrevivable': {
    version: 1,
    payload: z.object({ ...conversationRef, error: z.string(), snapshot_schema_version: z.number().int() }),
  },
  'nmc.conversation.HandedToHuman': {
    version: 1,
    payload: z.object({ ...conversationRef, reason: z.string() }),
  },
  // The dialogue put a service's price in front of the caller, and held a time for them: the
  // funnel's "quoted" and "held" steps.
  'nmc.conversation.ServiceQuoted': {
    version: 1,
    payload: z.object({ ...conversationRef, service_id: z.uuid(), price_cents: z.number().int() }),
  },
  'nmc.conversation.TimeHeld': {
    version: 1,
    payload: z.object({ ...conversationRef, hold_id: z.uuid(), start: z.string() }),
  },
  'nmc.conversation.ReminderSent': {
    version: 1,
    payload: z.object({ ...conversationRef, appointment_id: z.uuid(), offset_minutes: z.number().int() }),
  },
  'nmc.conversation.AppointmentBooked': {
    version: 1,
    payload: z.object({ ...conversationRef, appointment_id: z.uuid(), start: z.string() }),
  },
  'nmc.conversation.AppointmentCancelled': {
    version: 1,
    payload: z.object({ ...conversationRef, appointment_id: z.uuid() }),
  },
  // The scheduling module's record of every appointment change, whoever made it (the dialogue, an
  // operator, the public page): what calendars, reports and reminders follow.
  'nmc.scheduling.AppointmentBooked': { version: 1, payload: z.object(appointmentFacts) },
  'nmc.scheduling.AppointmentRescheduled': {
    version: 1,
    payload: z.object({
      ...appointmentFacts,
      previous_id: z.uuid(),
      previous_resource_id: z.uuid(),
      previous_start: z.string(),
      previous_end: z.string(),
    }),
  },
  'nmc.scheduling.AppointmentCancelled': { version: 1, payload: z.object(appointmentFacts) },
  'nmc.scheduling.AppointmentOutcomeMarked': {
    version: 1,
    payload: z.object({ ...appointmentFacts, outcome: z.enum(['completed', 'no_show']) }),
  },
  // Convergence (src/runtime/provisioning): every status change of a step, and a desired-state
  // version reached in every system.
  'nmc.provisioning.StepChanged': {
    version: 1,
    payload: z.object({
      step: z.string(),
      status: z.enum(['pending', 'running', 'done', 'waiting', 'failed']),
      desired_version: z.number().int(),
      attempt: z.number().int(),
      reason: z.string().nullable(),
    }),
  },
  'nmc.provisioning.TenantConverged': {
    version: 1,
    payload: z.object({ desired_version: z.number().int(), lifecycle: z.enum(['active', 'closed']) }),
  },
  'nmc.provisioning.DriftFound': {
    version: 1,
    payload: z.object({ kind: z.string(), subject: z.string(), repaired: z.boolean() }),
  },
  'nmc.compliance.CampaignStatusChanged': {
    version: 1,
    payload: z.object({
      status: z.enum(['pending', 'approved', 'rejected']),
      previous: z.enum(['none', 'pending', 'approved', 'rejected']),
      reason: z.string().nullable(),
    }),
  },
  'nmc.messaging.MessageStatusChanged': {
    version: 1,
    payload: z.object({
      ...conversationRef,
      message_id: z.uuid(),
      status: z.enum(['queued', 'sending', 'sent', 'delivered', 'failed']),
      error_code: z.string().nullable(),
    }),
  },
  // The provider took an outbound text (it returned the message's SID): the end of first-response
  // latency, measured from the missed call.
  'nmc.messaging.MessageAccepted': {
    version: 1,
    payload: z.object({ ...conversationRef, message_id: z.uuid(), purpose: z.string() }),
  },
  'nmc.billing.GatesChanged': {
    version: 1,
    payload: z.object({
      sms: z.boolean(),
      assistant: z.boolean(),
      status: z.string(),
      plan: z.string().nullable(),
    }),
  },
} as const;

export type EventName = keyof typeof EVENT_CATALOG;
export type EventPayload<N extends EventName> = z.infer<(typeof EVENT_CATALOG)[N]['payload']>;

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENT_CATALOG, name);
}

export type EventEnvelope = {
  event_id: string;
  event_name: EventName;
  schema_version: number;
  tenant_id: string;
  occurred_at: string;
  correlation_id: string;
  causation_id: string | null;
  payload: Record<string, unknown>;
};

export class EventContractError extends Error {
  override name = 'EventContractError';
}

/** Validates a payload against the catalog; returns the parsed payload or throws EventContractError. */
export function validateEvent(
  name: string,
  payload: unknown,
): { name: EventName; version: number; payload: Record<string, unknown> } {
  if (!isEventName(name)) throw new EventContractError(`event ${name} is not in the catalog`);
  const entry = EVENT_CATALOG[name];
  const parsed = entry.payload.safeParse(payload);
  if (!parsed.success) {
    throw new EventContractError(
      `event ${name} breaks its schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return { name, version: entry.version, payload: parsed.data as Record<string, unknown> };
}
