import type { Queryable } from '../db.ts';

// A business's saved quick replies (`conv_quick_replies`), in the owner's order; replaced as a
// whole, inside the caller's transaction.

export type QuickReply = { title: string; body: string };

export async function listQuickReplies(db: Queryable, tenantId: string): Promise<QuickReply[]> {
  const { rows } = await db.query<QuickReply>(
    'SELECT title, body FROM conv_quick_replies WHERE tenant_id = $1 ORDER BY position',
    [tenantId],
  );
  return rows;
}

export async function replaceQuickReplies(
  db: Queryable,
  tenantId: string,
  items: QuickReply[],
): Promise<void> {
  await db.query('DELETE FROM conv_quick_replies WHERE tenant_id = $1', [tenantId]);
  for (const [position, item] of items.entries()) {
    await db.query(
      'INSERT INTO conv_quick_replies (tenant_id, position, title, body) VALUES ($1, $2, $3, $4)',
      [tenantId, position, item.title, item.body],
    );
  }
}
