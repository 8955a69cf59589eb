import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { inTransaction } from '../../persistence/db.ts';
import { listQuickReplies, replaceQuickReplies } from '../../persistence/repositories/quick-replies.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';

// The business's saved quick replies: every operator reads them to fill the composer; the owner
// keeps the list (replaced as a whole, in the order given; audited).

const quickReply = z
  .object({ title: z.string().trim().min(1).max(80), body: z.string().trim().min(1).max(1600) })
  .meta({ id: 'QuickReply' });
const quickReplies = z.object({ items: z.array(quickReply).max(50) }).meta({ id: 'QuickReplies' });

export function quickReplyRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/quick-replies',
      {
        config: { action: 'conversations.read' },
        schema: {
          tags: ['conversations'],
          summary: "The business's saved quick replies, in order",
          security,
          response: { 200: quickReplies },
        },
      },
      async (request) => ({ items: await listQuickReplies(deps.db, tenantOf(request)) }),
    );

    app.put(
      '/api/v1/quick-replies',
      {
        config: { action: 'quick_replies.manage', audit: true },
        schema: {
          tags: ['conversations'],
          summary: "Replace the business's quick replies (at most 50)",
          security,
          body: quickReplies,
          response: { 200: quickReplies },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        await inTransaction(deps.db, (client) => replaceQuickReplies(client, tenantId, request.body.items));
        return { items: await listQuickReplies(deps.db, tenantId) };
      },
    );
  };
}
