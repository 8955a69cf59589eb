import { inTransaction, type Pool } from '../persistence/db.ts';
import { advanceMessageStatus, findMessage } from '../persistence/repositories/messages.ts';
import { fetchSmsStatus, type TwilioClient } from '../providers/twilio/client.ts';
import { mapTwilioStatus } from '../providers/twilio/message-status.ts';
import { writeMessageStatusEvent } from './message-status-event.ts';

// Webhook first, poll on provider failure: some minutes after a send, if the message's status
// callbacks have not brought it to a final state (delivered or failed), ask Twilio and apply the
// answer with the same forward-only rule as the callbacks.

export type StatusPollJob = { tenant_id: string; message_id: string };
export const STATUS_POLL_DELAY_MS = 10 * 60_000;

export function createStatusPoller(deps: { db: Pool; twilio: TwilioClient }) {
  return async (job: StatusPollJob): Promise<'final' | 'updated' | 'unchanged'> => {
    const message = await findMessage(deps.db, job.tenant_id, job.message_id);
    if (!message?.provider_sid || message.status === 'delivered' || message.status === 'failed')
      return 'final';
    const remote = await fetchSmsStatus(deps.twilio, message.provider_sid);
    const status = mapTwilioStatus(remote.status);
    if (!status) return 'unchanged';
    return inTransaction(deps.db, async (client) => {
      const updated = await advanceMessageStatus(client, {
        tenantId: message.tenant_id,
        id: message.id,
        status,
        errorCode: remote.errorCode,
      });
      if (!updated) return 'unchanged' as const;
      await writeMessageStatusEvent(client, updated, {
        correlationId: updated.id,
        causationId: updated.provider_sid,
      });
      return 'updated' as const;
    });
  };
}
