import type { ConversationFacts, SendPurpose } from './conversation-events.ts';

// The guard on every outbound text, in one place: checked by the machine when it decides to send
// and again by the send worker right before the provider call.

/** Why a text of this purpose may not leave, or null when it may. */
export function sendBlockedBy(
  purpose: SendPurpose,
  facts: Pick<ConversationFacts, 'campaignStatus' | 'optedOut' | 'gates'>,
): string | null {
  if (facts.campaignStatus !== 'approved') return 'campaign_not_approved';
  if (purpose === 'compliance') return null;
  if (facts.optedOut) return 'opted_out';
  if (!facts.gates.sms) return 'sms_gate_closed';
  if (purpose !== 'operator' && !facts.gates.assistant) return 'assistant_gate_closed';
  return null;
}
