import type { Queryable } from '../db.ts';

// Calls to a tenant's number (`conv_calls`), recorded when Twilio first asks what to do with the
// call, and completed by the dial-status callback.

export type CallRow = {
  tenant_id: string;
  id: string;
  call_sid: string;
  caller: string;
  conversation_id: string | null;
  dial_status: string | null;
  answered_by: string | null;
  missed: boolean;
  created_at: Date;
};

export async function recordCallStart(
  db: Queryable,
  call: { tenantId: string; id: string; callSid: string; caller: string },
): Promise<void> {
  await db.query(
    `INSERT INTO conv_calls (tenant_id, id, call_sid, caller) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, call_sid) DO NOTHING`,
    [call.tenantId, call.id, call.callSid, call.caller],
  );
}

export async function findCall(db: Queryable, tenantId: string, callSid: string): Promise<CallRow | null> {
  const { rows } = await db.query<CallRow>(
    `SELECT tenant_id, id, call_sid, caller, conversation_id, dial_status, answered_by, missed, created_at
     FROM conv_calls WHERE tenant_id = $1 AND call_sid = $2`,
    [tenantId, callSid],
  );
  return rows[0] ?? null;
}

export async function markScreenAccepted(db: Queryable, callSid: string): Promise<void> {
  await db.query("UPDATE conv_calls SET answered_by = 'human' WHERE call_sid = $1", [callSid]);
}

export async function recordDialResult(
  db: Queryable,
  result: {
    tenantId: string;
    id: string;
    callSid: string;
    caller: string;
    dialStatus: string;
    durationSeconds: number | null;
    answeredBy: string | null;
    missed: boolean;
    texted: boolean;
    conversationId: string | null;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO conv_calls (tenant_id, id, call_sid, caller, dial_status, duration_seconds, answered_by, missed, texted, conversation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, call_sid) DO UPDATE SET
       dial_status = EXCLUDED.dial_status,
       duration_seconds = EXCLUDED.duration_seconds,
       answered_by = COALESCE(conv_calls.answered_by, EXCLUDED.answered_by),
       missed = EXCLUDED.missed,
       texted = conv_calls.texted OR EXCLUDED.texted,
       conversation_id = COALESCE(EXCLUDED.conversation_id, conv_calls.conversation_id)`,
    [
      result.tenantId,
      result.id,
      result.callSid,
      result.caller,
      result.dialStatus,
      result.durationSeconds,
      result.answeredBy,
      result.missed,
      result.texted,
      result.conversationId,
    ],
  );
}

/** Retention: deletes up to `batch` call records created before `cutoff`; returns how many. */
export async function purgeCallsBefore(db: Queryable, cutoff: Date, batch: number): Promise<number> {
  const result = await db.query(
    'DELETE FROM conv_calls WHERE ctid IN (SELECT ctid FROM conv_calls WHERE created_at < $1 LIMIT $2)',
    [cutoff, batch],
  );
  return result.rowCount ?? 0;
}
