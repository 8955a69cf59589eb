import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { inTransaction } from '../../persistence/db.ts';
import { recordOptOut } from '../../persistence/repositories/compliance.ts';
import { findConversation } from '../../persistence/repositories/conversations.ts';
import {
  advanceMessageStatus,
  findMessage,
  type MessageRow,
  type MessageStatus,
  type StatusAdvance,
} from '../../persistence/repositories/messages.ts';
import { mapTwilioStatus } from '../../providers/twilio/message-status.ts';
import {
  advanceMessageStatusWithEvent,
  writeMessageStatusEvent,
} from '../../runtime/message-status-event.ts';
import type { AppDeps } from '../app.ts';
import { messageSid, TWILIO_CONSUMES, twilioFormSchema, twilioSignatureCheck } from '../twilio-webhook.ts';

// Delivery status callbacks. The status only moves forward (messages repository); a late or
// out-of-order callback changes nothing and still gets a 2xx, since Twilio has nothing to retry.
// The callback URL carries our tenant and message ids (set by the send worker), so a callback that
// overtakes the write of the provider's SID still finds its message.

const query = z.object({ tenant: z.uuid(), message: z.uuid() });
const statusParams = z.object({
  MessageSid: messageSid,
  MessageStatus: z.string().refine((s) => mapTwilioStatus(s) !== null, 'unknown MessageStatus'),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
});
const OPTED_OUT_CODE = '21610';

export function twilioSmsStatusRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/webhooks/twilio/sms/status',
      {
        preValidation: twilioSignatureCheck(deps.twilio, deps.config.PUBLIC_BASE_URL),
        schema: {
          tags: ['twilio'],
          summary: 'Delivery status of an outbound SMS',
          consumes: TWILIO_CONSUMES,
          querystring: query,
          body: twilioFormSchema,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        const parsed = statusParams.safeParse(request.body);
        if (!parsed.success) {
          throw new AppError(
            'validation_failed',
            `missing or malformed ${String(parsed.error.issues[0]?.path[0] ?? 'parameter')}`,
          );
        }
        const { MessageSid, MessageStatus, ErrorCode } = parsed.data;
        const { tenant, message: messageId } = request.query;
        const status = mapTwilioStatus(MessageStatus) as MessageStatus;

        const update = {
          tenantId: tenant,
          id: messageId,
          status,
          errorCode: ErrorCode ?? null,
          providerSid: MessageSid,
        };
        const trace = { correlationId: request.id, causationId: MessageSid };
        // A status moving forward is one statement: the change and its event commit together. The
        // forward-only update is what makes a replayed or out-of-order callback change nothing (and
        // write no event), so no claim of the callback is kept.
        const updated =
          ErrorCode === OPTED_OUT_CODE
            ? await recordCarrierOptOut(deps, update, trace)
            : await advanceMessageStatusWithEvent(deps.db, update, trace);
        if (!updated) {
          // Nothing moved: a status that is not forward (204), or a message we do not know (404).
          const message = await findMessage(deps.db, tenant, messageId);
          if (message?.direction !== 'out') throw new AppError('not_found', 'message not found');
        }
        const failed = updated?.status === 'failed' ? updated : null;
        if (failed && ErrorCode === OPTED_OUT_CODE) {
          // The carrier says the caller unsubscribed: block the conversation, as a STOP would.
          await deps.dispatch(
            tenant,
            { conversationId: failed.conversation_id },
            { type: 'OptedOut', source: 'carrier', confirm: false, at: new Date().toISOString() },
            {
              correlationId: request.id,
              causationId: MessageSid,
              idempotencyKey: `carrier-opt-out:${failed.id}`,
            },
          );
        } else if (failed) {
          // The conversation reacts (operators are told); idempotent by the message's SID.
          await deps.dispatch(
            tenant,
            { conversationId: failed.conversation_id },
            {
              type: 'MessageStatusChanged',
              messageId: failed.id,
              status: 'failed',
              errorCode: failed.error_code,
              at: new Date().toISOString(),
            },
            {
              correlationId: request.id,
              causationId: MessageSid,
              idempotencyKey: `message-failed:${failed.id}`,
            },
          );
        }
        return reply.code(204).send(null);
      },
    );
  };
}

// Rare (the carrier says the caller unsubscribed): the failed status, its event and the opt-out
// commit together, in a transaction.
function recordCarrierOptOut(
  deps: AppDeps,
  update: StatusAdvance,
  trace: { correlationId: string; causationId: string },
): Promise<MessageRow | null> {
  return inTransaction(deps.db, async (client) => {
    const updated = await advanceMessageStatus(client, update);
    if (!updated) return null;
    const conversation = await findConversation(client, update.tenantId, updated.conversation_id);
    if (conversation) await recordOptOut(client, update.tenantId, conversation.caller, 'carrier');
    await writeMessageStatusEvent(client, updated, trace);
    return updated;
  });
}
