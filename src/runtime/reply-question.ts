import { formatSlotForSms } from '../domain/local-time-words.ts';
import type { InterpretReply, ReplyHint, ReplyQuestion } from '../domain/reply-hint.ts';
import { reviveSnapshot } from '../machines/conversation-snapshot.ts';
import type { Queryable } from '../persistence/db.ts';
import { listServices } from '../persistence/repositories/catalog.ts';
import { peekActiveConversation } from '../persistence/repositories/conversations.ts';
import type { Tenant } from '../persistence/repositories/tenants.ts';

// Before an inbound text is dispatched, an optional language model may read it (src/providers/llm).
// This runs OUTSIDE the dispatch transaction, so a slow model never holds the conversation's row
// lock; what it reads here (the dialogue step, the offered times) may be stale by the time the event
// is applied, which is why the machine checks the hint against the locked snapshot (validHint).

/**
 * The question to put to the model about `text`, or null when there is nothing it could help with:
 * no active catalog, or a conversation the assistant is not in (a person's, a blocked one), or a
 * snapshot that cannot be read. Null means the caller's text is not sent anywhere.
 */
export async function readReplyQuestion(
  db: Queryable,
  tenant: Pick<Tenant, 'id' | 'time_zone'>,
  caller: string,
  text: string,
): Promise<ReplyQuestion | null> {
  if (text.trim() === '') return null;
  const services = await listServices(db, tenant.id, { activeOnly: true });
  if (services.length === 0) return null;
  const catalog = services.map(({ id, name }) => ({ id, name }));
  const row = await peekActiveConversation(db, tenant.id, caller);
  // No conversation yet: the event will start one, with a fresh dialogue.
  if (row === null) return { text, catalog, offered: [], step: 'idle' };
  if (row.state !== 'open') return null;
  let dialogue: ReturnType<typeof reviveSnapshot>['context']['dialogue'];
  try {
    dialogue = reviveSnapshot(row.snapshot, row.snapshot_schema_version).context.dialogue;
  } catch {
    return null;
  }
  const offering = dialogue.step === 'offering' || dialogue.step === 'confirming';
  return {
    text,
    catalog,
    offered: offering
      ? dialogue.offered.map((slot) =>
          formatSlotForSms(slot.start, { timeZone: tenant.time_zone, now: new Date().toISOString() }),
        )
      : [],
    // Confirming a cancellation is, to the model, still a booked conversation.
    step: dialogue.step === 'confirmingCancel' ? 'booked' : dialogue.step,
  };
}

/** The model's hint for an inbound text, or null; never throws (the deterministic path then runs). */
export async function hintForText(
  db: Queryable,
  interpret: InterpretReply,
  tenant: Pick<Tenant, 'id' | 'time_zone'>,
  caller: string,
  text: string,
): Promise<ReplyHint | null> {
  try {
    const question = await readReplyQuestion(db, tenant, caller, text);
    return question === null ? null : await interpret(question);
  } catch {
    return null;
  }
}
