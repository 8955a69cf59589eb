import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { classifyKeyword } from '../../domain/keywords.ts';
import { parseE164 } from '../../domain/phone.ts';
import { clearOptOut, recordOptOut } from '../../persistence/repositories/compliance.ts';
import { insertMessage } from '../../persistence/repositories/messages.ts';
import { findTenantByNumber } from '../../persistence/repositories/tenants.ts';
import { acknowledgeAlertBySms } from '../../runtime/alerts/acknowledge-alert.ts';
import type { EventInput } from '../../runtime/dispatch.ts';
import { hintForText } from '../../runtime/reply-question.ts';
import type { AppDeps } from '../app.ts';
import {
  emptyMessagingResponse,
  messageSid,
  sendTwiml,
  TWILIO_CONSUMES,
  TWIML_PRODUCES,
  twilioFormSchema,
  twilioSignatureCheck,
  twimlSchema,
} from '../twilio-webhook.ts';

// An inbound text. Compliance keywords come first (trimmed, case-insensitive, alone in the message):
// STOP-family records an opt-out and blocks the conversation, START/UNSTOP clears it, HELP/INFO
// answers the help text. When Twilio's Advanced Opt-Out already handled the keyword (`OptOutType`),
// we record it and do not confirm a second time. Anything else is `InboundSms`. The message itself
// (body, media) is always stored, in the same transaction as the event, deduplicated by MessageSid.

const MAX_MEDIA = 10;
const smsParams = z.object({
  MessageSid: messageSid,
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
  Body: z.string().max(10_000).default(''),
  NumMedia: z.coerce.number().int().min(0).max(MAX_MEDIA).default(0),
  OptOutType: z.enum(['STOP', 'START', 'HELP']).optional(),
});

export function twilioSmsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/webhooks/twilio/sms',
      {
        preValidation: twilioSignatureCheck(deps.twilio, deps.config.PUBLIC_BASE_URL),
        schema: {
          tags: ['twilio'],
          summary: 'Inbound SMS',
          consumes: TWILIO_CONSUMES,
          produces: TWIML_PRODUCES,
          body: twilioFormSchema,
          response: { 200: twimlSchema },
        },
      },
      async (request, reply) => {
        const parsed = smsParams.safeParse(request.body);
        if (!parsed.success) {
          throw new AppError(
            'validation_failed',
            `missing or malformed ${String(parsed.error.issues[0]?.path[0] ?? 'parameter')}`,
          );
        }
        const params = parsed.data;
        const tenant = await findTenantByNumber(deps.db, parseE164(params.To) ?? params.To);
        // Not our number: nothing to record; Twilio gets an empty answer.
        if (!tenant) return sendTwiml(reply, emptyMessagingResponse());
        const caller = parseE164(params.From);
        if (!caller) throw new AppError('validation_failed', 'From is not a valid phone number');

        // "OK" from a team member an alert was texted to acknowledges it: not a customer's text.
        const acknowledged = await acknowledgeAlertBySms(deps.db, {
          tenantId: tenant.id,
          from: caller,
          body: params.Body,
          messageSid: params.MessageSid,
        });
        if (acknowledged) return sendTwiml(reply, emptyMessagingResponse());

        const body = request.body as Record<string, unknown>;
        const media: string[] = [];
        for (let i = 0; i < params.NumMedia; i++) {
          const url = body[`MediaUrl${i}`];
          if (typeof url === 'string' && url.length <= 2048) media.push(url);
        }
        const keyword = classifyKeyword(params.Body);
        const handledByProvider = params.OptOutType !== undefined;
        // A plain text may first be read by the language model, outside the dispatch transaction
        // (no row lock held while it thinks); no hint, or a null one, leaves the event as it was.
        const hint =
          keyword === null && deps.interpretReply
            ? await hintForText(deps.db, deps.interpretReply, tenant, caller, params.Body)
            : null;
        const at = new Date().toISOString();
        const event: EventInput =
          keyword === 'opt_out'
            ? {
                type: 'OptedOut',
                source: handledByProvider ? 'provider' : 'keyword',
                confirm: !handledByProvider,
                at,
              }
            : keyword === 'opt_in'
              ? { type: 'OptedIn', confirm: !handledByProvider, at }
              : keyword === 'help'
                ? { type: 'HelpRequested', confirm: !handledByProvider, at }
                : {
                    type: 'InboundSms',
                    messageSid: params.MessageSid,
                    body: params.Body,
                    mediaCount: media.length,
                    at,
                    ...(hint ? { hint } : {}),
                  };

        await deps.dispatch(tenant.id, { caller }, event, {
          correlationId: request.id,
          causationId: params.MessageSid,
          tenant,
          webhook: { provider: 'twilio', key: `sms:${params.MessageSid}` },
          record: async ({ client, conversation, emit }) => {
            const id = randomUUID();
            await insertMessage(client, {
              tenantId: tenant.id,
              id,
              conversationId: conversation.id,
              direction: 'in',
              participant: 'caller',
              body: params.Body,
              media,
              status: 'received',
              providerSid: params.MessageSid,
              at,
            });
            emit('nmc.conversation.MessageReceived', { message_id: id });
            if (keyword === 'opt_out')
              await recordOptOut(client, tenant.id, caller, handledByProvider ? 'provider' : 'keyword');
            if (keyword === 'opt_in') await clearOptOut(client, tenant.id, caller);
          },
        });
        return sendTwiml(reply, emptyMessagingResponse());
      },
    );
  };
}
