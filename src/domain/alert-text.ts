import { type AlertReason, URGENT_REASONS } from './alert-reasons.ts';
import { formatSpanForSms, type TimeWords } from './local-time-words.ts';

// The words of an alert text to a team member. It names the reason and links to the conversation;
// it never carries what the customer wrote (the text may be read on a lock screen, and the
// conversation is one tap away), nor the customer's number. A calendar conflict names both times
// on the business's clock — the appointment's and the busy block's — so the owner can tell from
// the lock screen which job and which entry of their calendar collide.

const REASON_WORDS: Record<AlertReason, string> = {
  handover_requested: 'A customer asked to talk to a person',
  emergency: 'A customer reported an emergency',
  complaint: 'A customer is unhappy',
  opted_out_with_appointment: 'A customer with a booked appointment opted out of texts',
  hold_lapsed_after_yes: "A customer said yes after their held time lapsed; the time couldn't be kept",
  repeated_misunderstanding: "The assistant couldn't understand a customer several times",
  unsupported_language: "A customer wrote in a language the assistant doesn't answer",
  out_of_scope: "A customer asked for something the business doesn't do",
  message_while_human: 'A customer texted in a conversation a person has taken over',
  no_open_times: 'A customer wants a time and none is open; they were told a person will text them',
  calendar_conflict: "A booked appointment now overlaps something in the owner's calendar",
};

type Span = { start: string; end: string };

/** The two times of a calendar conflict, and how to write them (the business's zone). */
export type ConflictTimes = { appointment: Span; busy: Span; words: TimeWords };

function conflictWords(conflict: ConflictTimes): string {
  const { appointment, busy, words } = conflict;
  return `A booked appointment (${formatSpanForSms(appointment.start, appointment.end, words)}) now overlaps something in the owner's calendar (${formatSpanForSms(busy.start, busy.end, words)})`;
}

export function alertText(input: {
  businessName: string;
  reason: AlertReason;
  link: string;
  reminder: boolean;
  /** For a calendar conflict: its times (without them the text names the reason only). */
  conflict?: ConflictTimes | null;
}): string {
  const prefix = URGENT_REASONS.has(input.reason) ? 'URGENT: ' : input.reminder ? 'Reminder: ' : '';
  const words =
    input.reason === 'calendar_conflict' && input.conflict
      ? conflictWords(input.conflict)
      : REASON_WORDS[input.reason];
  return `${prefix}${input.businessName}: ${words}. ${input.link} Reply OK to acknowledge.`;
}
