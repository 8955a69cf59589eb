// Why a conversation needs a person: the typed reasons behind `OperatorAttentionNeeded`. One inbound
// text is not a reason by itself; each of these is something a person at the business should act on.

export const ALERT_REASONS = [
  /** The customer asked for a person. */
  'handover_requested',
  /** Danger or damage was described (burst pipe, flooding, gas smell…). Never held back by quiet hours. */
  'emergency',
  /** The customer is unhappy. */
  'complaint',
  /** STOP (or another carrier opt-out keyword) arrived while an appointment is still booked. */
  'opted_out_with_appointment',
  /** The customer said yes after their hold had lapsed and the time could not be kept. */
  'hold_lapsed_after_yes',
  /** The assistant did not understand several texts in a row. */
  'repeated_misunderstanding',
  /** The customer wrote in a language the templates do not cover. */
  'unsupported_language',
  /** The customer asked for something the business does not do and was offered a call back. */
  'out_of_scope',
  /** The customer texted while a person has the conversation (the person should read it). */
  'message_while_human',
  /** No open time in the booking horizon: the customer was told a person will text them. */
  'no_open_times',
  /** A busy block arrived in the owner's calendar after a booking and overlaps it. */
  'calendar_conflict',
] as const;

export type AlertReason = (typeof ALERT_REASONS)[number];

/** Reasons urgent enough to reach people during their quiet hours. */
export const URGENT_REASONS: ReadonlySet<AlertReason> = new Set(['emergency']);
