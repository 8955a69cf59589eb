import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db.ts';

// The conversation module's internal notes (`conv_notes`): written by the team, shown to the team,
// never sent. Scoped by tenant on every query.

export type NoteRow = {
  id: string;
  conversation_id: string;
  author_user_id: string;
  author_name: string | null;
  body: string;
  created_at: Date;
};

const COLUMNS = 'id, conversation_id, author_user_id, author_name, body, created_at';

export async function insertNote(
  db: Queryable,
  note: {
    tenantId: string;
    conversationId: string;
    authorUserId: string;
    authorName: string | null;
    body: string;
  },
): Promise<NoteRow> {
  const { rows } = await db.query<NoteRow>(
    `INSERT INTO conv_notes (tenant_id, id, conversation_id, author_user_id, author_name, body)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [note.tenantId, randomUUID(), note.conversationId, note.authorUserId, note.authorName, note.body],
  );
  const row = rows[0];
  if (!row) throw new Error('note insert returned nothing');
  return row;
}

export async function listNotes(db: Queryable, tenantId: string, conversationId: string): Promise<NoteRow[]> {
  const { rows } = await db.query<NoteRow>(
    `SELECT ${COLUMNS} FROM conv_notes WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at, id`,
    [tenantId, conversationId],
  );
  return rows;
}
