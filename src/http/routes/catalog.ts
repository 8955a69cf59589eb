import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { moneySchema } from '../../domain/money.ts';
import {
  createService,
  deactivateService,
  listServices,
  serviceInputSchema,
  servicePatchSchema,
  updateService,
} from '../../persistence/repositories/catalog.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { idParam, listOf } from '../schemas.ts';

// The catalog of Service Items: OWNER manages it; TECH reads it.

export const serviceSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    duration_minutes: z.number().int(),
    price: moneySchema,
    active: z.boolean(),
    aliases: z.array(z.string()),
  })
  .meta({ id: 'Service' });

export function catalogRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    app.get(
      '/api/v1/services',
      {
        config: { action: 'catalog.read' },
        schema: {
          tags: ['catalog'],
          summary: 'Services (active and inactive)',
          security,
          querystring: z.object({ active: z.enum(['true', 'false']).optional() }),
          response: { 200: listOf(serviceSchema) },
        },
      },
      async (request) => ({
        items: await listServices(deps.db, tenantOf(request), {
          activeOnly: request.query.active === 'true',
        }),
        next_cursor: null,
      }),
    );
    app.post(
      '/api/v1/services',
      {
        config: { action: 'catalog.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['catalog'],
          summary: 'Add a service',
          security,
          body: serviceInputSchema,
          response: { 201: serviceSchema },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await createService(deps.db, tenantOf(request), request.body)),
    );
    app.patch(
      '/api/v1/services/:id',
      {
        config: { action: 'catalog.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags: ['catalog'],
          summary: 'Change a service',
          security,
          params: idParam,
          body: servicePatchSchema,
          response: { 200: serviceSchema },
        },
      },
      async (request) => {
        const updated = await updateService(deps.db, tenantOf(request), request.params.id, request.body);
        if (!updated) throw new AppError('not_found', 'service not found');
        return updated;
      },
    );
    app.delete(
      '/api/v1/services/:id',
      {
        config: { action: 'catalog.manage', audit: true },
        schema: {
          tags: ['catalog'],
          summary: 'Deactivate a service (it stays on past bookings)',
          security,
          params: idParam,
          response: { 200: serviceSchema },
        },
      },
      async (request) => {
        const updated = await deactivateService(deps.db, tenantOf(request), request.params.id);
        if (!updated) throw new AppError('not_found', 'service not found');
        return updated;
      },
    );
  };
}
