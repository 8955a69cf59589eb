import type { MessageStatus } from '../../persistence/repositories/messages.ts';

// Twilio's message statuses mapped onto ours (DESIGN: queued → sent → delivered | failed;
// undelivered maps to failed).
const STATUS_MAP: Record<string, MessageStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

export function mapTwilioStatus(status: string): MessageStatus | null {
  return Object.hasOwn(STATUS_MAP, status) ? (STATUS_MAP[status] ?? null) : null;
}
