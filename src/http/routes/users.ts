import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { inTransaction } from '../../persistence/db.ts';
import {
  changeUser,
  inviteUser,
  isPendingInvitation,
  listUsers,
  type UserChange,
  type UserRow,
} from '../../persistence/repositories/users.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { idParam, instant, listOf } from '../schemas.ts';

// The tenant's operators. An OWNER changes roles and deactivates users; a deactivated user's next
// request is refused whatever token it carries. The last active OWNER can be neither demoted nor
// deactivated: nobody could manage the business any more. An OWNER invites someone by email with a
// role: the row waits (`pending`) until that person first signs in through the business's
// organisation at the identity provider, and takes up the invitation (src/persistence/repositories/users.ts).

const user = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    role: z.enum(['OWNER', 'TECH']),
    active: z.boolean(),
    pending: z.boolean().describe('invited, and has not signed in yet'),
    created_at: instant,
    last_seen_at: instant,
  })
  .meta({ id: 'User' });

const userChange = z
  .strictObject({ role: z.enum(['OWNER', 'TECH']).optional(), active: z.boolean().optional() })
  .refine((body) => body.role !== undefined || body.active !== undefined, {
    message: 'name a role, active, or both',
  });

const toJson = (row: UserRow) => ({
  id: row.id,
  email: row.email,
  role: row.role,
  active: row.active,
  pending: isPendingInvitation(row),
  created_at: row.created_at.toISOString(),
  last_seen_at: row.last_seen_at.toISOString(),
});

export function userRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const change = async (tenantId: string, id: string, body: UserChange): Promise<UserRow> => {
    const result = await inTransaction(deps.db, (client) => changeUser(client, tenantId, id, body));
    if (result.kind === 'not_found') throw new AppError('not_found', 'user not found');
    if (result.kind === 'last_owner') {
      throw new AppError(
        'conflict',
        'this is the last active OWNER of the business: make another user OWNER first, or nobody could manage it',
      );
    }
    return result.user;
  };

  return async (app) => {
    app.get(
      '/api/v1/users',
      {
        config: { action: 'users.read' },
        schema: {
          tags: ['users'],
          summary: "The tenant's operators",
          security: [{ bearer: [] }],
          response: { 200: listOf(user) },
        },
      },
      async (request) => ({
        items: (await listUsers(deps.db, tenantOf(request))).map(toJson),
        next_cursor: null,
      }),
    );

    app.post(
      '/api/v1/users',
      {
        config: { action: 'users.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['users'],
          summary: 'Invite someone by email with a role (they join on their first sign-in)',
          security: [{ bearer: [] }],
          body: z.strictObject({
            email: z.email().max(320),
            role: z.enum(['OWNER', 'TECH']),
          }),
          response: { 201: user },
        },
      },
      async (request, reply) => {
        const result = await inviteUser(deps.db, tenantOf(request), request.body);
        if (result.kind === 'exists')
          throw new AppError('conflict', 'someone with this email is already a user or invited');
        return reply.code(201).send(toJson(result.user));
      },
    );

    app.patch(
      '/api/v1/users/:id',
      {
        config: { action: 'users.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['users'],
          summary: "Change an operator's role, or deactivate / reactivate them",
          security: [{ bearer: [] }],
          params: idParam,
          body: userChange,
          response: { 200: user },
        },
      },
      async (request) => toJson(await change(tenantOf(request), request.params.id, request.body)),
    );

    app.delete(
      '/api/v1/users/:id',
      {
        config: { action: 'users.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['users'],
          summary: 'Deactivate an operator (their next request is refused)',
          security: [{ bearer: [] }],
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await change(tenantOf(request), request.params.id, { active: false });
        return reply.code(204).send(null);
      },
    );
  };
}
