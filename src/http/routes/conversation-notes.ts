import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { findConversation } from '../../persistence/repositories/conversations.ts';
import { insertNote, listNotes, type NoteRow } from '../../persistence/repositories/notes.ts';
import { findUser } from '../../persistence/repositories/users.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { idParam, instant, listOf } from '../schemas.ts';

// Internal notes on a conversation: for the team only, never sent to the caller (they are not
// messages and never reach the engine or the send path). Writing one is audited.

const note = z
  .object({
    id: z.uuid(),
    conversation_id: z.uuid(),
    author_user_id: z.uuid(),
    author_name: z.string().nullable(),
    body: z.string(),
    created_at: instant,
  })
  .meta({ id: 'ConversationNote' });

const toJson = (row: NoteRow) => ({ ...row, created_at: row.created_at.toISOString() });

export function conversationNoteRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    async function ownConversation(tenantId: string, id: string) {
      // Another tenant's id answers exactly like one that does not exist.
      if (!(await findConversation(deps.db, tenantId, id)))
        throw new AppError('not_found', 'conversation not found');
    }

    app.get(
      '/api/v1/conversations/:id/notes',
      {
        config: { action: 'conversations.read', errors: ['not_found'] },
        schema: {
          tags: ['conversations'],
          summary: "The team's internal notes on a conversation, oldest first",
          security,
          params: idParam,
          response: { 200: listOf(note) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        await ownConversation(tenantId, request.params.id);
        return {
          items: (await listNotes(deps.db, tenantId, request.params.id)).map(toJson),
          next_cursor: null,
        };
      },
    );

    app.post(
      '/api/v1/conversations/:id/notes',
      {
        config: { action: 'conversations.note', audit: true, errors: ['not_found'] },
        schema: {
          tags: ['conversations'],
          summary: 'Add an internal note (shown to the team, never sent to the caller)',
          security,
          params: idParam,
          body: z.object({ body: z.string().trim().min(1).max(4000) }),
          response: { 201: note },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const userId = request.principal?.userId;
        if (!userId) throw new AppError('forbidden', 'only a tenant user can write notes');
        await ownConversation(tenantId, request.params.id);
        const author = await findUser(deps.db, tenantId, userId);
        const row = await insertNote(deps.db, {
          tenantId,
          conversationId: request.params.id,
          authorUserId: userId,
          authorName: author?.email ?? null,
          body: request.body.body,
        });
        return reply.code(201).send(toJson(row));
      },
    );
  };
}
