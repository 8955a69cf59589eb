import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { receivePush } from '../../runtime/calendar/receive-push.ts';
import type { AppDeps } from '../app.ts';

// Google Calendar's push notifications (events.watch channels). The channel id and its secret token
// (X-Goog-Channel-ID, X-Goog-Channel-Token) are checked before anything else: an unknown channel or
// a wrong token is 403 and writes nothing. Google sends no body; everything is in the headers. The
// 200 is sent after the push is recorded and its sync queued (committed together).

const header = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);

export function googleCalendarWebhookRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Google posts no body; whatever arrives is ignored (and not parsed).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

    app.post(
      '/webhooks/google/calendar',
      {
        schema: {
          tags: ['google'],
          summary: 'Google Calendar push notifications (channel id + channel token checked first)',
          headers: z.object({
            'x-goog-channel-id': z.string().max(200).optional().describe('Our channel id (events.watch)'),
            'x-goog-channel-token': z.string().max(500).optional().describe("The channel's secret token"),
            'x-goog-resource-id': z.string().max(500).optional(),
            'x-goog-resource-state': z
              .string()
              .max(50)
              .optional()
              .describe('sync when the channel opens, then exists'),
            'x-goog-message-number': z.string().max(30).optional(),
          }),
          response: { 200: z.object({ received: z.literal(true) }) },
        },
      },
      async (request) => {
        const calendar = deps.calendar;
        if (!calendar) throw new AppError('signature_invalid', 'no calendar channels exist here');
        const h = request.headers;
        const outcome = await receivePush(
          calendar,
          {
            channelId: header(h['x-goog-channel-id']),
            channelToken: header(h['x-goog-channel-token']),
            resourceId: header(h['x-goog-resource-id']),
            resourceState: header(h['x-goog-resource-state']),
            messageNumber: header(h['x-goog-message-number']),
          },
          request.id,
        );
        request.log.info({ outcome }, 'google calendar push');
        return { received: true as const };
      },
    );
  };
}
