import type { Queryable } from '../persistence/db.ts';
import type { MessageRow } from '../persistence/repositories/messages.ts';
import { writeOutboxEvents } from './outbox.ts';

/** Records, with the change, that an outbound message moved to its current status. */
export async function writeMessageStatusEvent(
  db: Queryable,
  message: MessageRow,
  trace: { correlationId: string; causationId: string | null },
): Promise<void> {
  await writeOutboxEvents(db, [
    {
      tenantId: message.tenant_id,
      name: 'nmc.messaging.MessageStatusChanged',
      payload: {
        conversation_id: message.conversation_id,
        message_id: message.id,
        status: message.status,
        error_code: message.error_code,
      },
      occurredAt: new Date().toISOString(),
      correlationId: trace.correlationId,
      causationId: trace.causationId,
    },
  ]);
}
