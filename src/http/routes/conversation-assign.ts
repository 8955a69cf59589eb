import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { findConversation } from '../../persistence/repositories/conversations.ts';
import { findUser, listUsers } from '../../persistence/repositories/users.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { idParam, listOf } from '../schemas.ts';

// Assigning a conversation to a teammate: it becomes theirs exactly as if they had taken it over
// (the engine's HumanTakeoverRequested on their behalf, so the assistant goes silent and the
// machine's rules apply), and the audit log records who assigned it. The teammates an operator
// can pick are the business's active users.

const teammate = z
  .object({ id: z.uuid(), name: z.string(), role: z.enum(['OWNER', 'TECH']) })
  .meta({ id: 'Teammate' });

export function conversationAssignRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/teammates',
      {
        config: { action: 'conversations.assign' },
        schema: {
          tags: ['conversations'],
          summary: "The business's active users, to assign a conversation to",
          security,
          response: { 200: listOf(teammate) },
        },
      },
      async (request) => {
        const users = await listUsers(deps.db, tenantOf(request));
        return {
          items: users
            .filter((u) => u.active)
            .map((u) => ({ id: u.id, name: u.email ?? 'A teammate without an email', role: u.role })),
          next_cursor: null,
        };
      },
    );

    app.post(
      '/api/v1/conversations/:id/assign',
      {
        config: { action: 'conversations.assign', audit: true, errors: ['not_found', 'conflict'] },
        schema: {
          tags: ['conversations'],
          summary: 'Assign the conversation to a teammate (it becomes theirs, as if they took it over)',
          security,
          params: idParam,
          body: z.object({ user_id: z.uuid().describe('an active user of this business') }),
          response: {
            200: z.object({
              id: z.uuid(),
              state: z.enum(['open', 'human', 'closed', 'blocked']),
              assigned_to: z.uuid().nullable(),
            }),
          },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const { id } = request.params;
        // Another tenant's user id answers like one that does not exist.
        const user = await findUser(deps.db, tenantId, request.body.user_id);
        if (!user?.active) throw new AppError('not_found', 'no active teammate with that id');
        const conversation = await findConversation(deps.db, tenantId, id);
        if (!conversation) throw new AppError('not_found', 'conversation not found');
        if (conversation.state === 'blocked' || conversation.state === 'closed')
          throw new AppError('conflict', `a ${conversation.state} conversation cannot be assigned`);
        const result = await deps.dispatch(
          tenantId,
          { conversationId: id },
          { type: 'HumanTakeoverRequested', operatorId: user.id, at: new Date().toISOString() },
          { correlationId: request.id },
        );
        const after = await findConversation(deps.db, tenantId, result.conversationId);
        if (!after) throw new AppError('not_found', 'conversation not found');
        return { id: after.id, state: after.state as 'open', assigned_to: after.assigned_to };
      },
    );
  };
}
