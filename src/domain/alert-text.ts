import { type AlertReason, URGENT_REASONS } from './alert-reasons.ts';

// The words of an alert text to a team member. It names the reason and links to the conversation;
// it never carries what the customer wrote (the text may be read on a lock screen, and the
// conversation is one tap away), nor the customer's number.

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

export function alertText(input: {
  businessName: string;
  reason: AlertReason;
  link: string;
  reminder: boolean;
}): string {
  const prefix = URGENT_REASONS.has(input.reason) ? 'URGENT: ' : input.reminder ? 'Reminder: ' : '';
  return `${prefix}${input.businessName}: ${REASON_WORDS[input.reason]}. ${input.link} Reply OK to acknowledge.`;
}
