import type { Queryable } from '../db.ts';

// The conversation module's actor rows (`conv_conversations`), applied-event records and calls.

export type ConversationRow = {
  tenant_id: string;
  id: string;
  caller: string;
  state: string;
  assigned_to: string | null;
  snapshot: unknown;
  snapshot_schema_version: number;
  version: number;
  flagged: string | null;
  last_message_at: Date | null;
  last_activity_at: Date;
  created_at: Date;
};

const COLUMNS =
  'tenant_id, id, caller, state, assigned_to, snapshot, snapshot_schema_version, version, flagged, last_message_at, last_activity_at, created_at';

/** Locks the conversation for the rest of the transaction; events for it are applied one at a time. */
export async function lockConversation(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<ConversationRow | null> {
  const { rows } = await db.query<ConversationRow>(
    `SELECT ${COLUMNS} FROM conv_conversations WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/**
 * Locks the caller's non-closed conversation, creating it first when there is none. Two
 * transactions racing to create meet on the partial unique index: the second waits, inserts
 * nothing, and locks the row the first created. If the row it waited for was closed meanwhile
 * (a close committed while we queued for the lock), the lock finds nothing and we try again, now
 * creating the new conversation. `expectNew` only picks which statement to try first (a missed call
 * usually starts a conversation; a reply usually continues one): the result is the same.
 */
export async function lockOrCreateActiveConversation(
  db: Queryable,
  fresh: {
    tenantId: string;
    id: string;
    caller: string;
    state: string;
    snapshot: unknown;
    schemaVersion: number;
    at: string;
  },
  expectNew = false,
): Promise<{ row: ConversationRow; created: boolean }> {
  if (expectNew) {
    // A new caller (a missed call, mostly): the insert alone creates and locks the row.
    const created = await db.query<ConversationRow>(
      `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version, last_activity_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT (tenant_id, caller) WHERE state <> 'closed' DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        fresh.tenantId,
        fresh.id,
        fresh.caller,
        fresh.state,
        JSON.stringify(fresh.snapshot),
        fresh.schemaVersion,
        fresh.at,
      ],
    );
    if (created.rows[0]) return { row: created.rows[0], created: true };
  } else {
    // An ongoing conversation (a reply, mostly): one locking read.
    const existing = await db.query<ConversationRow>(
      `SELECT ${COLUMNS} FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed' FOR UPDATE`,
      [fresh.tenantId, fresh.caller],
    );
    if (existing.rows[0]) return { row: existing.rows[0], created: false };
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const inserted = await db.query<{ id: string }>(
      `INSERT INTO conv_conversations (tenant_id, id, caller, state, snapshot, snapshot_schema_version, last_activity_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT (tenant_id, caller) WHERE state <> 'closed' DO NOTHING
       RETURNING id`,
      [
        fresh.tenantId,
        fresh.id,
        fresh.caller,
        fresh.state,
        JSON.stringify(fresh.snapshot),
        fresh.schemaVersion,
        fresh.at,
      ],
    );
    const { rows } = await db.query<ConversationRow>(
      `SELECT ${COLUMNS} FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed' FOR UPDATE`,
      [fresh.tenantId, fresh.caller],
    );
    const row = rows[0];
    if (row) return { row, created: inserted.rowCount === 1 && row.id === fresh.id };
  }
  throw new Error('could not lock an active conversation after 5 attempts');
}

export async function saveConversation(
  db: Queryable,
  update: {
    tenantId: string;
    id: string;
    state: string;
    assignedTo: string | null;
    snapshot: unknown;
    schemaVersion: number;
    at: string;
    touchedMessages: boolean;
  },
): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    `UPDATE conv_conversations
     SET state = $3, assigned_to = $4, snapshot = $5, snapshot_schema_version = $6, version = version + 1,
         last_activity_at = GREATEST(last_activity_at, $7::timestamptz),
         last_message_at = CASE WHEN $8 THEN GREATEST(COALESCE(last_message_at, $7::timestamptz), $7::timestamptz) ELSE last_message_at END,
         closed_at = CASE WHEN $3 = 'closed' THEN COALESCE(closed_at, $7::timestamptz) ELSE NULL END
     WHERE tenant_id = $1 AND id = $2
     RETURNING version`,
    [
      update.tenantId,
      update.id,
      update.state,
      update.assignedTo,
      JSON.stringify(update.snapshot),
      update.schemaVersion,
      update.at,
      update.touchedMessages,
    ],
  );
  const version = rows[0]?.version;
  if (version === undefined) throw new Error('conversation row missing on save');
  return version;
}

export async function flagConversation(
  db: Queryable,
  tenantId: string,
  id: string,
  flag: string,
): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    'UPDATE conv_conversations SET flagged = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2 RETURNING version',
    [tenantId, id, flag],
  );
  return rows[0]?.version ?? 0;
}

export async function findAppliedEvent(
  db: Queryable,
  tenantId: string,
  key: string,
): Promise<{ conversation_id: string; result: unknown } | null> {
  const { rows } = await db.query<{ conversation_id: string; result: unknown }>(
    'SELECT conversation_id, result FROM conv_applied_events WHERE tenant_id = $1 AND idempotency_key = $2',
    [tenantId, key],
  );
  return rows[0] ?? null;
}

export async function recordAppliedEvent(
  db: Queryable,
  row: { tenantId: string; key: string; conversationId: string; version: number; result: unknown },
): Promise<void> {
  await db.query(
    `INSERT INTO conv_applied_events (tenant_id, idempotency_key, conversation_id, version, result)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [row.tenantId, row.key, row.conversationId, row.version, JSON.stringify(row.result)],
  );
}

export type ConversationSummary = {
  id: string;
  caller: string;
  state: string;
  assigned_to: string | null;
  flagged: string | null;
  last_message_at: Date | null;
  last_activity_at: Date;
  created_at: Date;
};

const SUMMARY = 'id, caller, state, assigned_to, flagged, last_message_at, last_activity_at, created_at';

/** The operator inbox: newest activity first, keyset-paginated on (last_activity_at, id). */
export async function listConversations(
  db: Queryable,
  query: {
    tenantId: string;
    state?: string;
    callerContains?: string;
    after?: { at: string; id: string };
    limit: number;
  },
): Promise<ConversationSummary[]> {
  const where = ['tenant_id = $1'];
  const params: unknown[] = [query.tenantId];
  if (query.state) {
    params.push(query.state);
    where.push(`state = $${params.length}`);
  }
  if (query.callerContains) {
    params.push(`%${query.callerContains}%`);
    where.push(`caller LIKE $${params.length}`);
  }
  if (query.after) {
    params.push(query.after.at, query.after.id);
    where.push(`(last_activity_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(query.limit);
  const order = `ORDER BY last_activity_at DESC, id DESC LIMIT $${params.length}`;
  // A caller search filters on a substring no btree can seek: the page's ids come from walking the
  // inbox index alone, newest first (it includes the caller and the state, migration 0027), then
  // only the page's rows are read, not every conversation tested from the heap.
  const text = query.callerContains
    ? `SELECT ${SUMMARY} FROM conv_conversations
       WHERE tenant_id = $1 AND id IN (SELECT id FROM conv_conversations WHERE ${where.join(' AND ')} ${order})
       ${order}`
    : `SELECT ${SUMMARY} FROM conv_conversations WHERE ${where.join(' AND ')} ${order}`;
  const { rows } = await db.query<ConversationSummary>(text, params);
  return rows;
}

export async function findConversation(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<ConversationSummary | null> {
  const { rows } = await db.query<ConversationSummary>(
    `SELECT ${SUMMARY} FROM conv_conversations WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/** The caller's number of each of these conversations (those that exist in the tenant). */
export async function callersOf(
  db: Queryable,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; caller: string }>(
    'SELECT id, caller FROM conv_conversations WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
    [tenantId, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r.caller]));
}

/** Closes a conversation whose snapshot cannot be revived (operators can always close). */
export async function forceCloseConversation(db: Queryable, tenantId: string, id: string): Promise<void> {
  await db.query(
    `UPDATE conv_conversations SET state = 'closed', assigned_to = NULL, closed_at = now(), version = version + 1
     WHERE tenant_id = $1 AND id = $2 AND state <> 'closed'`,
    [tenantId, id],
  );
}

/** Ids of the tenant's conversations that are not closed (for fan-out of tenant-wide changes). */
export async function listActiveConversationIds(db: Queryable, tenantId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM conv_conversations WHERE tenant_id = $1 AND state <> 'closed' ORDER BY id",
    [tenantId],
  );
  return rows.map((r) => r.id);
}

/** Retention: deletes up to `batch` closed conversations last active before `cutoff`. */
export async function purgeClosedConversationsBefore(
  db: Queryable,
  cutoff: Date,
  batch: number,
): Promise<number> {
  const result = await db.query(
    `DELETE FROM conv_conversations WHERE ctid IN (
       SELECT ctid FROM conv_conversations WHERE state = 'closed' AND last_activity_at < $1 LIMIT $2)`,
    [cutoff, batch],
  );
  return result.rowCount ?? 0;
}

/** Retention: deletes up to `batch` applied-event records older than `cutoff`. */
export async function purgeAppliedEventsBefore(db: Queryable, cutoff: Date, batch: number): Promise<number> {
  const result = await db.query(
    'DELETE FROM conv_applied_events WHERE ctid IN (SELECT ctid FROM conv_applied_events WHERE applied_at < $1 LIMIT $2)',
    [cutoff, batch],
  );
  return result.rowCount ?? 0;
}

/**
 * The caller's non-closed conversation, read WITHOUT a lock: for work done before dispatch (asking
 * a language model) that must not hold the row. What it returns may be stale by the time the event
 * is applied; the machine re-checks everything against the locked row.
 */
export async function peekActiveConversation(
  db: Queryable,
  tenantId: string,
  caller: string,
): Promise<Pick<ConversationRow, 'id' | 'state' | 'snapshot' | 'snapshot_schema_version'> | null> {
  const { rows } = await db.query<ConversationRow>(
    `SELECT id, state, snapshot, snapshot_schema_version FROM conv_conversations
     WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed'`,
    [tenantId, caller],
  );
  return rows[0] ?? null;
}
