import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { receiveJobberWebhook } from '../../runtime/calendar/receive-jobber-webhook.ts';
import type { AppDeps } from '../app.ts';

// Jobber's app webhooks (visits created, changed, deleted; the app disconnected). The signature
// covers the exact bytes Jobber sent, so this plugin keeps the raw body: its own JSON parser
// (scoped to this plugin) hands the handler a Buffer. X-Jobber-Hmac-SHA256 is checked before
// anything else: missing or wrong is 403 and nothing is written. The 200 follows the receipt and
// the queued sync (committed together); the sync itself runs later (Jobber wants an answer in 1 s).

const received = z.object({ received: z.literal(true) }).meta({ example: { received: true } });

// Read as raw bytes (the signature covers them), so the schema is documentation: any JSON passes it.
const jobberEvent = z
  .unknown()
  .describe(
    "Jobber's webhook payload, exactly as Jobber sent it: the raw bytes are checked against X-Jobber-Hmac-SHA256 before they are read",
  )
  .meta({
    example: {
      data: {
        webHookEvent: {
          topic: 'VISIT_CREATE',
          appId: '5d0c7e0a-5a1e-4c6b-9d0e-6a3b7f1c2d4e',
          accountId: 'Z2lkOi8vSm9iYmVyL0FjY291bnQvMTAwMQ==',
          itemId: 'Z2lkOi8vSm9iYmVyL1Zpc2l0LzE=',
          occurredAt: '2026-12-03T16:31:36-06:00',
        },
      },
    },
  });

export function jobberWebhookRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });

    app.post(
      '/webhooks/jobber',
      {
        schema: {
          tags: ['jobber'],
          summary: 'Jobber webhooks (visits, app disconnect); signed with X-Jobber-Hmac-SHA256',
          operationId: 'receiveJobberWebhook',
          consumes: ['application/json'],
          headers: z.object({
            'x-jobber-hmac-sha256': z
              .string()
              .max(200)
              .optional()
              .describe("Base64 HMAC-SHA256 of the raw body with the Jobber app's client secret"),
          }),
          body: jobberEvent,
          response: { 200: received },
        },
      },
      async (request) => {
        const calendar = deps.calendar;
        if (!calendar?.jobber) throw new AppError('signature_invalid', 'no Jobber app is configured here');
        const body = request.body;
        const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
        const outcome = await receiveJobberWebhook(calendar, {
          rawBody: raw,
          signature: request.headers['x-jobber-hmac-sha256'],
          correlationId: request.id,
        });
        request.log.info({ ...outcome }, 'jobber webhook');
        return { received: true as const };
      },
    );
  };
}
