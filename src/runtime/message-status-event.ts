import type { Queryable } from '../persistence/db.ts';
import {
  advanceMessageStatusSql,
  type MessageRow,
  type StatusAdvance,
} from '../persistence/repositories/messages.ts';
import { changeWithOutboxEvent, writeOutboxEvents } from './outbox.ts';

const EVENT_NAME = 'nmc.messaging.MessageStatusChanged';

/** Records, with the change, that an outbound message moved to its current status. */
export async function writeMessageStatusEvent(
  db: Queryable,
  message: MessageRow,
  trace: { correlationId: string; causationId: string | null },
): Promise<void> {
  await writeOutboxEvents(db, [
    {
      tenantId: message.tenant_id,
      name: EVENT_NAME,
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

/**
 * Moves an outbound message forward (as `advanceMessageStatus`) and writes its
 * MessageStatusChanged event in one statement, so the two commit together without a transaction:
 * a status that is not forward of the message's writes neither. Returns the updated row, or null.
 * Within a transaction it is the same as `advanceMessageStatus` followed by `writeMessageStatusEvent`.
 */
export async function advanceMessageStatusWithEvent(
  db: Queryable,
  update: StatusAdvance,
  trace: { correlationId: string; causationId: string | null },
): Promise<MessageRow | null> {
  const [updated] = await changeWithOutboxEvent<MessageRow>(db, advanceMessageStatusSql(update), {
    tenantId: update.tenantId,
    name: EVENT_NAME,
    // The row is the message `update` names, now at `update.status` (the statement sets it).
    payload: { message_id: update.id, status: update.status },
    fromRow: { conversation_id: 'conversation_id', error_code: 'error_code' },
    occurredAt: new Date().toISOString(),
    correlationId: trace.correlationId,
    causationId: trace.causationId,
  });
  return updated ?? null;
}
