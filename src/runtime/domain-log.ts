import type { EventEnvelope } from '../domain/event-catalog.ts';
import type { Logger } from '../observability/logger.ts';
import type { Subscriber } from './outbox-dispatcher.ts';

// One info line per committed domain step, so a person can follow a conversation in the log by its
// id: call missed → conversation started → sms queued → sent → delivered; reply received → state;
// appointment booked; takeover and release. Lines come from the outbox, so only what was committed
// is logged, once, in commit order. Only ids, states, statuses and reasons are copied: never a
// number or a text (the sanitizer would catch them; this keeps them from being offered at all).

const MESSAGES: Record<string, string> = {
  'nmc.conversation.ConversationStarted': 'conversation started',
  'nmc.conversation.MissedCallRecorded': 'call missed',
  'nmc.conversation.MessageReceived': 'text received from the caller',
  'nmc.conversation.MessageQueued': 'sms queued',
  'nmc.conversation.SendSuppressed': 'sms not sent',
  'nmc.conversation.StateChanged': 'conversation state changed',
  'nmc.conversation.HumanTookOver': 'taken over by an operator',
  'nmc.conversation.HumanReleased': 'released to the assistant',
  'nmc.conversation.ConversationClosed': 'conversation closed',
  'nmc.conversation.OptedOut': 'caller opted out',
  'nmc.conversation.OptedIn': 'caller opted back in',
  'nmc.conversation.Blocked': 'conversation blocked',
  'nmc.conversation.Unblocked': 'conversation unblocked',
  'nmc.conversation.InboundWhileBlocked': 'text received while blocked',
  'nmc.conversation.OperatorAttentionNeeded': 'operator attention needed',
  'nmc.conversation.SnapshotUnrevivable': 'conversation flagged: snapshot unrevivable',
  'nmc.conversation.HandedToHuman': 'handed to a person',
  'nmc.conversation.ServiceQuoted': 'service quoted',
  'nmc.conversation.TimeHeld': 'time held',
  'nmc.conversation.AppointmentBooked': 'appointment booked',
  'nmc.conversation.AppointmentCancelled': 'appointment cancelled',
  'nmc.scheduling.AppointmentBooked': 'calendar: appointment booked',
  'nmc.scheduling.AppointmentRescheduled': 'calendar: appointment rescheduled',
  'nmc.scheduling.AppointmentCancelled': 'calendar: appointment cancelled',
  'nmc.scheduling.AppointmentOutcomeMarked': 'calendar: appointment outcome marked',
  'nmc.messaging.MessageAccepted': 'sms accepted by the provider',
  'nmc.compliance.CampaignStatusChanged': '10DLC campaign status changed',
  'nmc.billing.GatesChanged': 'billing gates changed',
};

// Payload keys worth a column. `from`/`to` (of a state change) are renamed: the sanitizer would take
// them for phone fields.
const FIELDS: ReadonlySet<string> = new Set(
  (
    'conversation_id message_id appointment_id call_sid purpose status error_code reason cause ' +
    'source operator_id by idle start previous previous_id outcome from to sms assistant plan'
  ).split(' '),
);
const RENAMED: Readonly<Record<string, string>> = { from: 'state_from', to: 'state_to' };

/** The log line of one domain event: its message and the fields that identify the step. */
export function domainLogLine(event: EventEnvelope): { fields: Record<string, unknown>; message: string } {
  const fields: Record<string, unknown> = {
    event: event.event_name.split('.').pop(),
    tenant_id: event.tenant_id,
  };
  for (const [key, value] of Object.entries(event.payload)) {
    if (FIELDS.has(key) && value !== null && typeof value !== 'object') fields[RENAMED[key] ?? key] = value;
  }
  fields.correlation_id = event.correlation_id;
  const message =
    event.event_name === 'nmc.messaging.MessageStatusChanged'
      ? `sms ${String(event.payload.status)}`
      : (MESSAGES[event.event_name] ?? event.event_name);
  return { fields, message };
}

export function domainLogSubscriber(logger: Logger): Subscriber {
  return {
    name: 'domain-log',
    events: '*',
    handle: async (event) => {
      const { fields, message } = domainLogLine(event);
      logger.info(fields, message);
    },
  };
}
