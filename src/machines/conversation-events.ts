import type { AlertReason } from '../domain/alert-reasons.ts';
import type { ReplyHint } from '../domain/reply-hint.ts';
import type { SlotOutcome, SlotSearch } from '../domain/slot-search.ts';
import type { Templates } from '../domain/templates.ts';
import type { Trade } from '../domain/understanding/understanding.ts';

// What the conversation machine is told. Time (`at`) and the facts it decides with come in on every
// event, read by the runtime inside the same transaction, so the machine never reads a clock, a
// database or a setting by itself, and a fact (campaign approved, opted out, gates) is never stale.

export type CampaignStatus = 'none' | 'pending' | 'approved' | 'rejected';

export type ConversationPolicy = {
  /** Missed calls within this window of the last greeting get no second greeting. */
  greetingWindowMinutes: number;
  /** An `open` conversation with no activity for this long is closed. */
  inactivityCloseMinutes: number;
  /** An `open` conversation with a booked appointment and no activity for this long is closed. */
  bookedCloseMinutes: number;
  /** A `human` conversation with no operator activity for this long goes back to the assistant; null = never. */
  humanIdleReleaseMinutes: number | null;
  /** After this many messages the assistant could not understand, a person takes over. */
  maxMisunderstandings: number;
};

/** An active service of the tenant's catalog, as the assistant quotes it. */
export type CatalogItem = {
  id: string;
  name: string;
  aliases: string[];
  durationMinutes: number;
  priceCents: number;
};

/** A bookable time for one resource (RFC 3339 UTC instants). */
export type BookableSlot = { resourceId: string; start: string; end: string };

export type ConversationFacts = {
  businessName: string;
  /** The tenant's IANA time zone: offered times are written in it. */
  timeZone: string;
  /** Active services; empty means no booking dialogue (the assistant acknowledges and hands over). */
  catalog: CatalogItem[];
  helpText: string;
  campaignStatus: CampaignStatus;
  optedOut: boolean;
  /** Feature gates from the subscription: `sms` for any outbound text, `assistant` for automatic replies. */
  gates: { sms: boolean; assistant: boolean };
  afterHours: boolean;
  /** When a person next answers (the next opening of business hours), RFC 3339; null when open now or unknown. */
  nextOpeningAt: string | null;
  /** The phone a caller can call to reach the business (shown when texts are off), or null. */
  businessPhone: string | null;
  trade: Trade;
  /** How times are written: `en-US` (default) or e.g. `en-GB`. */
  locale: string;
  /** Texts within this many seconds of each other are read together; 0 answers each at once. */
  replyDelaySeconds: number;
  templates: Templates;
  policy: ConversationPolicy;
};

type Base = { at: string; facts: ConversationFacts };

/** `burst`: the caller's texts of the last seconds are read together, then answered once. */
export type TimerKind = 'inactivity' | 'humanIdle' | 'burst';

export type ConversationEvent =
  | (Base & { type: 'MissedCall'; callSid: string })
  | (Base & {
      type: 'InboundSms';
      messageSid: string;
      body: string;
      mediaCount: number;
      /** A language model's reading of `body`; acted on only when consistent (validHint). */
      hint?: ReplyHint;
    })
  | (Base & { type: 'HumanTakeoverRequested'; operatorId: string })
  | (Base & { type: 'HumanReleased'; operatorId: string })
  | (Base & { type: 'OperatorMessage'; operatorId: string; body: string })
  | (Base & { type: 'CloseRequested'; operatorId: string | null })
  | (Base & { type: 'OptedOut'; source: 'keyword' | 'provider' | 'carrier'; confirm: boolean })
  | (Base & { type: 'OptedIn'; confirm: boolean })
  /** `confirm: false` when the provider (Twilio Advanced Opt-Out) already answered the keyword. */
  | (Base & { type: 'HelpRequested'; confirm?: boolean })
  | (Base & { type: 'CampaignStatusChanged'; status: CampaignStatus })
  | (Base & {
      type: 'MessageStatusChanged';
      messageId: string;
      status: 'sent' | 'delivered' | 'failed';
      errorCode: string | null;
    })
  | (Base & { type: 'HoldExpired'; holdId: string })
  /** The caller asked on the public booking page to hold a time: text them this 6-digit code. */
  | (Base & { type: 'PublicBookingCodeRequested'; holdId: string; code: string })
  // Answers of the runtime to the dialogue's requests, applied in the same transaction:
  | (Base & {
      type: 'SlotsFound';
      serviceId: string;
      slots: BookableSlot[];
      /** How the times answer what was asked (src/domain/slot-search.ts); `spread` when nothing was. */
      outcome?: SlotOutcome;
      /** The asked day the business does not open, `YYYY-MM-DD`. */
      closedDate?: string | null;
    })
  | (Base & { type: 'HoldPlaced'; holdId: string; slot: BookableSlot; expiresAt: string })
  | (Base & { type: 'HoldFailed'; reason: string })
  /** `link`: the customer's page for the booking, when the runtime made one. */
  | (Base & { type: 'Booked'; appointmentId: string; slot: BookableSlot; link?: string | null })
  | (Base & { type: 'BookingFailed'; reason: string })
  | (Base & { type: 'AppointmentCancelled'; appointmentId: string })
  | (Base & { type: 'AppointmentMoved'; appointmentId: string; previousId: string; slot: BookableSlot })
  | (Base & { type: 'MoveFailed'; reason: string })
  | (Base & { type: 'CancellationFailed'; appointmentId: string; reason: string })
  | (Base & { type: 'InactivityTimeout'; timer: TimerKind; token: number })
  /** An appointment's reminder is due (src/runtime/reminders): the runtime checked it still stands. */
  | (Base & {
      type: 'AppointmentReminderDue';
      appointmentId: string;
      serviceId: string;
      serviceName: string;
      slot: BookableSlot;
      offsetMinutes: number;
      /** The customer's page for this booking, or null when there is none. */
      link: string | null;
    })
  /** The appointment was completed and the tenant sends a follow-up text (off by default). */
  | (Base & { type: 'AppointmentCompleted'; appointmentId: string })
  /**
   * The appointment was cancelled, or moved, outside this conversation (an operator through the API,
   * the customer's page, the calendar): the dialogue stops believing in the old one.
   */
  | (Base & { type: 'AppointmentCancelledElsewhere'; appointmentId: string })
  | (Base & {
      type: 'AppointmentMovedElsewhere';
      appointmentId: string;
      previousId: string;
      slot: BookableSlot;
    });

export type ConversationEventType = ConversationEvent['type'];

export const CONVERSATION_EVENT_TYPES: readonly ConversationEventType[] = [
  'MissedCall',
  'InboundSms',
  'HumanTakeoverRequested',
  'HumanReleased',
  'OperatorMessage',
  'CloseRequested',
  'OptedOut',
  'OptedIn',
  'HelpRequested',
  'CampaignStatusChanged',
  'MessageStatusChanged',
  'HoldExpired',
  'PublicBookingCodeRequested',
  'InactivityTimeout',
  'SlotsFound',
  'HoldPlaced',
  'HoldFailed',
  'Booked',
  'BookingFailed',
  'AppointmentCancelled',
  'AppointmentMoved',
  'MoveFailed',
  'CancellationFailed',
  'AppointmentReminderDue',
  'AppointmentCompleted',
  'AppointmentCancelledElsewhere',
  'AppointmentMovedElsewhere',
];

export type SendPurpose = 'greeting' | 'assistant' | 'operator' | 'compliance';

/** What a transition asks the runtime to do, as data. */
export type Effect =
  | { type: 'sendSms'; body: string; purpose: SendPurpose; operatorId: string | null }
  | { type: 'scheduleTimer'; timer: TimerKind; fireAt: string; token: number }
  | { type: 'emit'; name: string; payload: Record<string, unknown> }
  | { type: 'notifyOperators'; reason: AlertReason }
  | BookingRequest;

/** Effects the runtime answers with a follow-up event in the same transaction. */
export type BookingRequest =
  | {
      type: 'findSlots';
      serviceId: string;
      /** What the caller asked for; the plain spread of the next days when absent. */
      search?: SlotSearch;
      /** The appointment being moved: it does not block its own new time. */
      moving?: string | null;
    }
  | { type: 'placeHold'; serviceId: string; slot: BookableSlot }
  | { type: 'confirmHold'; holdId: string }
  | { type: 'releaseHold'; holdId: string }
  | { type: 'cancelAppointment'; appointmentId: string }
  /** Cancel one appointment and book the new time in one step; either both happen or neither. */
  | { type: 'moveAppointment'; appointmentId: string; slot: BookableSlot };

const BOOKING_REQUEST_TYPES: ReadonlySet<Effect['type']> = new Set<BookingRequest['type']>([
  'findSlots',
  'placeHold',
  'confirmHold',
  'releaseHold',
  'cancelAppointment',
  'moveAppointment',
]);

export function isBookingRequest(effect: Effect): effect is BookingRequest {
  return BOOKING_REQUEST_TYPES.has(effect.type);
}
