import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { listUsers, setUserRole, type UserRow } from '../../persistence/repositories/users.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { idParam, instant, listOf } from '../schemas.ts';

const user = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    role: z.enum(['OWNER', 'TECH']),
    created_at: instant,
    last_seen_at: instant,
  })
  .meta({ id: 'User' });

const toJson = (row: UserRow) => ({
  id: row.id,
  email: row.email,
  role: row.role,
  created_at: row.created_at.toISOString(),
  last_seen_at: row.last_seen_at.toISOString(),
});

export function userRoutes(deps: AppDeps): FastifyPluginAsyncZod {
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

    app.patch(
      '/api/v1/users/:id',
      {
        config: { action: 'users.manage', audit: true },
        schema: {
          tags: ['users'],
          summary: "Change an operator's role",
          security: [{ bearer: [] }],
          params: idParam,
          body: z.object({ role: z.enum(['OWNER', 'TECH']) }),
          response: { 200: user },
        },
      },
      async (request) => {
        const updated = await setUserRole(deps.db, tenantOf(request), request.params.id, request.body.role);
        if (!updated) throw new AppError('not_found', 'user not found');
        return toJson(updated);
      },
    );
  };
}
