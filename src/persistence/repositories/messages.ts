import type { Queryable } from '../db.ts';

// Conversation messages (`conv_messages`). Outbound statuses only move forward:
// queued → sending → sent → delivered, and failed is terminal; `advanceMessageStatus` is the one
// place that enforces it, in SQL, so a late or out-of-order callback can never move a message back.
// Every insert takes its conversation's next `seq` (a trigger, migration 0012): the transcript's
// order, since messages written in one transaction share created_at.

export type MessageStatus = 'received' | 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';
export type Participant = 'caller' | 'assistant' | 'operator' | 'system';

export const STATUS_RANK: Record<MessageStatus, number> = {
  received: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  failed: 5,
};

export type MessageRow = {
  tenant_id: string;
  id: string;
  conversation_id: string;
  direction: 'in' | 'out';
  participant: Participant;
  operator_id: string | null;
  purpose: string | null;
  body: string;
  media: string[];
  status: MessageStatus;
  provider_sid: string | null;
  error_code: string | null;
  failure_reason: string | null;
  attempts: number;
  /** The message's place in its conversation (1, 2, …): the transcript's order. */
  seq: number;
  created_at: Date;
  updated_at: Date;
};

const COLUMNS =
  'tenant_id, id, conversation_id, direction, participant, operator_id, purpose, body, media, status, provider_sid, error_code, failure_reason, attempts, seq::int AS seq, created_at, updated_at';
/** COLUMNS qualified with the `m` alias, for statements that join another table. */
const M_COLUMNS = COLUMNS.split(', ')
  .map((column) => `m.${column}`)
  .join(', ');

export async function insertMessage(
  db: Queryable,
  message: {
    tenantId: string;
    id: string;
    conversationId: string;
    direction: 'in' | 'out';
    participant: Participant;
    operatorId?: string | null;
    purpose?: string | null;
    body: string;
    media?: string[];
    status: MessageStatus;
    providerSid?: string | null;
    at: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO conv_messages (tenant_id, id, conversation_id, direction, participant, operator_id, purpose, body, media, status, provider_sid, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
    [
      message.tenantId,
      message.id,
      message.conversationId,
      message.direction,
      message.participant,
      message.operatorId ?? null,
      message.purpose ?? null,
      message.body,
      JSON.stringify(message.media ?? []),
      message.status,
      message.providerSid ?? null,
      message.at,
    ],
  );
}

export async function findMessage(db: Queryable, tenantId: string, id: string): Promise<MessageRow | null> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${COLUMNS} FROM conv_messages WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/** A message with its conversation's caller, in one statement: what the send worker reads first. */
export async function findMessageWithCaller(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<{ message: MessageRow; caller: string | null } | null> {
  const { rows } = await db.query<MessageRow & { conversation_caller: string | null }>(
    `SELECT ${M_COLUMNS}, c.caller AS conversation_caller
     FROM conv_messages m
     LEFT JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
     WHERE m.tenant_id = $1 AND m.id = $2`,
    [tenantId, id],
  );
  const row = rows[0];
  if (!row) return null;
  const { conversation_caller, ...message } = row;
  return { message, caller: conversation_caller };
}

/** The last message of each of these conversations (for the inbox's rows), by conversation id. */
export async function lastMessagesOf(
  db: Queryable,
  tenantId: string,
  conversationIds: string[],
): Promise<Map<string, MessageRow>> {
  if (conversationIds.length === 0) return new Map();
  const { rows } = await db.query<MessageRow>(
    `SELECT DISTINCT ON (conversation_id) ${COLUMNS} FROM conv_messages
     WHERE tenant_id = $1 AND conversation_id = ANY($2::uuid[])
     ORDER BY conversation_id, seq DESC`,
    [tenantId, conversationIds],
  );
  return new Map(rows.map((row) => [row.conversation_id, row]));
}

export async function listMessages(
  db: Queryable,
  tenantId: string,
  conversationId: string,
  limit = 200,
): Promise<MessageRow[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${COLUMNS} FROM conv_messages WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY seq LIMIT $3`,
    [tenantId, conversationId, limit],
  );
  return rows;
}

export type StatusAdvance = {
  tenantId: string;
  id: string;
  status: MessageStatus;
  errorCode?: string | null;
  failureReason?: string | null;
  providerSid?: string | null;
  attempts?: number;
};

/**
 * Moves an outbound message to `status` if that is forward of where it is; returns the updated row,
 * or null when the change would move it back (or sideways) and nothing was written.
 */
export async function advanceMessageStatus(db: Queryable, update: StatusAdvance): Promise<MessageRow | null> {
  const { text, values } = advanceMessageStatusSql(update);
  const { rows } = await db.query<MessageRow>(text, values);
  return rows[0] ?? null;
}

// Built once: the hot path of every status callback and send.
const ADVANCE_STATUS_SQL = `UPDATE conv_messages
   SET status = $3,
       error_code = COALESCE($4, error_code),
       failure_reason = COALESCE($5, failure_reason),
       provider_sid = COALESCE(provider_sid, $6),
       attempts = GREATEST(attempts, COALESCE($7, attempts)),
       updated_at = now()
   WHERE tenant_id = $1 AND id = $2 AND direction = 'out'
     AND status <> 'failed' AND status <> 'delivered'
     AND ${rankSql('status')} < ${rankSql('$3')}
   RETURNING ${COLUMNS}`;

/**
 * The statement `advanceMessageStatus` runs (it returns the updated row), for a caller that
 * writes something derived from that row in the same statement (the status event's outbox row).
 */
export function advanceMessageStatusSql(update: StatusAdvance): { text: string; values: unknown[] } {
  return {
    text: ADVANCE_STATUS_SQL,
    values: [
      update.tenantId,
      update.id,
      update.status,
      update.errorCode ?? null,
      update.failureReason ?? null,
      update.providerSid ?? null,
      update.attempts ?? null,
    ],
  };
}

export async function recordSendAttempt(
  db: Queryable,
  tenantId: string,
  id: string,
  attempts: number,
): Promise<void> {
  await db.query(
    'UPDATE conv_messages SET attempts = GREATEST(attempts, $3), updated_at = now() WHERE tenant_id = $1 AND id = $2',
    [tenantId, id, attempts],
  );
}

function rankSql(expr: string): string {
  const cases = Object.entries(STATUS_RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(' ');
  return `(CASE ${expr}::text ${cases} END)`;
}

/** Records the provider's id for a sent message (once). */
/**
 * The provider's SID for a message the provider accepted, as a statement for a caller to wrap
 * (src/runtime/outbox.ts `changeWithOutboxEvent`): a SID already written (a status callback can
 * overtake this write) is kept, and the row is returned either way, so the acceptance is recorded.
 */
export function recordProviderSidSql(
  tenantId: string,
  id: string,
  sid: string,
): { text: string; values: unknown[] } {
  return {
    text: `UPDATE conv_messages SET provider_sid = COALESCE(provider_sid, $3), updated_at = now()
           WHERE tenant_id = $1 AND id = $2 RETURNING id`,
    values: [tenantId, id, sid],
  };
}

/** A new queued copy of an outbound message (dead-letter replay); returns its id. */
export async function cloneOutboundMessage(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO conv_messages (tenant_id, id, conversation_id, direction, participant, operator_id, purpose, body, media, status)
     SELECT tenant_id, gen_random_uuid(), conversation_id, direction, participant, operator_id, purpose, body, media, 'queued'
     FROM conv_messages WHERE tenant_id = $1 AND id = $2 AND direction = 'out'
     RETURNING id`,
    [tenantId, id],
  );
  return rows[0]?.id ?? null;
}

/** Retention: deletes up to `batch` messages created before `cutoff`; returns how many. */
export async function purgeMessagesBefore(db: Queryable, cutoff: Date, batch: number): Promise<number> {
  const result = await db.query(
    'DELETE FROM conv_messages WHERE ctid IN (SELECT ctid FROM conv_messages WHERE created_at < $1 LIMIT $2)',
    [cutoff, batch],
  );
  return result.rowCount ?? 0;
}
