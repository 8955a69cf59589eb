import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { campaignStatus, isOptedOut } from '../../persistence/repositories/compliance.ts';
import {
  type ConversationSummary,
  findConversation,
  forceCloseConversation,
  listConversations,
} from '../../persistence/repositories/conversations.ts';
import { lastMessagesOf, listMessages, type MessageRow } from '../../persistence/repositories/messages.ts';
import { customerNamesOf } from '../../persistence/repositories/scheduling/booking-codes.ts';
import type { EventInput } from '../../runtime/dispatch.ts';
import { actionBody } from '../action-body.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { decodeKeysetCursor, encodeCursor, idParam, instant, listOf, pageQuery } from '../schemas.ts';

// The operator's view of conversations. Every change goes through the engine's `dispatch`, so the
// machine's guards apply whoever acts (an opted-out caller gets nothing, whoever sends). An
// operator message in `open` takes the conversation over first, in the same transition.

const state = z.enum(['open', 'human', 'closed', 'blocked']);
const messageStatus = z.enum(['received', 'queued', 'sending', 'sent', 'delivered', 'failed']);
const lastMessage = z
  .object({
    body: z.string(),
    direction: z.enum(['in', 'out']),
    participant: z.enum(['caller', 'assistant', 'operator', 'system']),
    status: messageStatus,
    created_at: instant,
  })
  .nullable()
  .describe("the conversation's latest message, for an inbox row (a failed send shows here)");
const conversation = z
  .object({
    id: z.uuid(),
    caller: z.string(),
    caller_name: z
      .string()
      .nullable()
      .describe('the name the caller gave when they booked (public booking), when known'),
    state,
    assigned_to: z.string().nullable(),
    flagged: z.string().nullable(),
    last_message_at: instant.nullable(),
    created_at: instant,
    last_message: lastMessage,
  })
  .meta({ id: 'Conversation' });
const message = z.object({
  id: z.uuid(),
  seq: z
    .number()
    .int()
    .describe("the message's place in the transcript (1, 2, …); messages are listed by it"),
  direction: z.enum(['in', 'out']),
  participant: z.enum(['caller', 'assistant', 'operator', 'system']),
  operator_id: z.string().nullable().describe('the user who wrote an operator message'),
  body: z.string(),
  media: z.array(z.string()),
  status: messageStatus,
  failure_reason: z.string().nullable(),
  created_at: instant,
});
const sendingBlocked = z
  .object({
    reason: z.enum(['opted_out', 'campaign_not_approved', 'conversation_blocked']),
    message: z.string(),
  })
  .nullable()
  .describe('why no text can be sent to this caller now (null: texts can be sent)');
const conversationDetail = conversation
  .extend({ messages: z.array(message), sending_blocked: sendingBlocked })
  .meta({ id: 'ConversationDetail' });

const CAMPAIGN_WORDS: Record<string, string> = {
  none: 'this business has not registered for business texting (10DLC) yet',
  pending: "this business's texting registration (10DLC) is waiting for approval",
  rejected: "this business's texting registration (10DLC) was rejected; see Settings → Texting registration",
};

function lastMessageJson(row: MessageRow | undefined) {
  if (!row) return null;
  return {
    body: row.body,
    direction: row.direction,
    participant: row.participant,
    status: row.status,
    created_at: row.created_at.toISOString(),
  };
}

function toJson(row: ConversationSummary, last: MessageRow | undefined, callerName: string | null) {
  return {
    id: row.id,
    caller: row.caller,
    caller_name: callerName,
    state: row.state as z.infer<typeof state>,
    assigned_to: row.assigned_to,
    flagged: row.flagged,
    last_message_at: row.last_message_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    last_message: lastMessageJson(last),
  };
}

export function conversationRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    async function detail(tenantId: string, id: string) {
      const row = await findConversation(deps.db, tenantId, id);
      // Another tenant's id answers exactly like an id that does not exist.
      if (!row) throw new AppError('not_found', 'conversation not found');
      const messages = await listMessages(deps.db, tenantId, id);
      const names = await customerNamesOf(deps.db, tenantId, [row.caller]);
      return {
        ...toJson(row, messages[messages.length - 1], names.get(row.caller) ?? null),
        sending_blocked: await sendingBlockedOf(tenantId, row),
        messages: messages.map((m) => ({
          id: m.id,
          seq: m.seq,
          direction: m.direction,
          participant: m.participant,
          operator_id: m.operator_id,
          body: m.body,
          media: m.media,
          status: m.status,
          failure_reason: m.failure_reason,
          created_at: m.created_at.toISOString(),
        })),
      };
    }

    // What the thread shows in place of the composer: the same gates the send job checks.
    async function sendingBlockedOf(tenantId: string, row: ConversationSummary) {
      if (await isOptedOut(deps.db, tenantId, row.caller))
        return {
          reason: 'opted_out' as const,
          message: 'the caller opted out (texted STOP): nothing can be sent until they text START',
        };
      const campaign = await campaignStatus(deps.db, tenantId);
      if (campaign !== 'approved')
        return {
          reason: 'campaign_not_approved' as const,
          message: `texts cannot be sent: ${CAMPAIGN_WORDS[campaign] ?? 'texting is not approved'}`,
        };
      if (row.state === 'blocked')
        return {
          reason: 'conversation_blocked' as const,
          message: 'the conversation is blocked (messaging compliance): no text can be sent',
        };
      return null;
    }

    // A text to a caller who opted out is refused, not queued and then silently suppressed: the
    // operator learns why. Nothing is written. (The machine's guard still holds if STOP arrives in
    // between: then the answer is 200 with suppressed_reason.)
    async function refuseOptedOutCaller(tenantId: string, id: string) {
      const row = await findConversation(deps.db, tenantId, id);
      if (!row) throw new AppError('not_found', 'conversation not found');
      if (await isOptedOut(deps.db, tenantId, row.caller))
        throw new AppError(
          'conflict',
          'the caller opted out (texted STOP): no text can be sent to them until they text START',
        );
      if (row.state === 'blocked')
        throw new AppError(
          'conflict',
          'the conversation is blocked (messaging compliance): no text can be sent',
        );
    }

    app.get(
      '/api/v1/conversations',
      {
        config: { action: 'conversations.read' },
        schema: {
          tags: ['conversations'],
          summary: 'The inbox: newest activity first',
          security: [{ bearer: [] }],
          querystring: z.object({
            state: state.optional(),
            caller: z
              .string()
              .regex(/^\+?\d{1,15}$/)
              .optional()
              .describe('digits the caller number contains'),
            ...pageQuery,
          }),
          response: { 200: listOf(conversation) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const { state: filter, caller, cursor, limit } = request.query;
        let after: { at: string; id: string } | undefined;
        if (cursor) {
          const { at, key } = decodeKeysetCursor(cursor);
          after = { at, id: key };
        }
        const rows = await listConversations(deps.db, {
          tenantId,
          ...(filter ? { state: filter } : {}),
          ...(caller ? { callerContains: caller } : {}),
          ...(after ? { after } : {}),
          limit: limit + 1,
        });
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        const latest = await lastMessagesOf(
          deps.db,
          tenantId,
          page.map((row) => row.id),
        );
        const names = await customerNamesOf(
          deps.db,
          tenantId,
          page.map((row) => row.caller),
        );
        return {
          items: page.map((row) => toJson(row, latest.get(row.id), names.get(row.caller) ?? null)),
          next_cursor:
            rows.length > limit && last ? encodeCursor([last.last_activity_at.toISOString(), last.id]) : null,
        };
      },
    );

    app.get(
      '/api/v1/conversations/:id',
      {
        config: { action: 'conversations.read' },
        schema: {
          tags: ['conversations'],
          summary: 'One conversation with its messages',
          security: [{ bearer: [] }],
          params: idParam,
          response: { 200: conversationDetail },
        },
      },
      async (request) => detail(tenantOf(request), request.params.id),
    );

    const operate = (
      path: string,
      summary: string,
      event: (operatorId: string, body: { body?: string }) => EventInput,
      options: { withBody?: boolean; operationId?: string } = {},
    ) =>
      app.post(
        `/api/v1/conversations/:id/${path}`,
        {
          // A text to a caller who opted out, or in a blocked conversation, is refused (409).
          config: {
            action: 'conversations.operate',
            audit: true,
            errors: path === 'messages' ? ['conflict'] : [],
          },
          schema: {
            tags: ['conversations'],
            summary,
            ...(options.operationId ? { operationId: options.operationId } : {}),
            security: [{ bearer: [] }],
            params: idParam,
            ...(options.withBody
              ? { body: z.object({ body: z.string().trim().min(1).max(1600) }) }
              : { body: actionBody }),
            // Only a text is created (201); an action answers the conversation as it now is (200), as
            // does a text that was not sent (with the reason).
            response: {
              200: z.object({ conversation: conversationDetail, suppressed_reason: z.string().nullable() }),
              ...(options.withBody
                ? { 201: z.object({ conversation: conversationDetail, suppressed_reason: z.null() }) }
                : {}),
            },
          },
        },
        async (request, reply) => {
          const tenantId = tenantOf(request);
          const operatorId = request.principal?.userId;
          if (!operatorId) throw new AppError('forbidden', 'only a tenant user can operate conversations');
          const { id } = request.params;
          if (path === 'messages') await refuseOptedOutCaller(tenantId, id);
          // dispatch answers 404 for an id that is not this tenant's, like a missing one.
          const result = await deps.dispatch(
            tenantId,
            { conversationId: id },
            event(operatorId, request.body ?? {}),
            {
              correlationId: request.id,
            },
          );
          if (result.outcome === 'flagged' && path === 'close')
            await forceCloseConversation(deps.db, tenantId, id);
          let suppressed: string | null = null;
          if (path === 'messages' && result.messageIds.length === 0) {
            const { rows } = await deps.db.query<{ reason: string }>(
              `SELECT payload->>'reason' AS reason FROM outbox_events
               WHERE tenant_id = $1 AND event_name = 'nmc.conversation.SendSuppressed' AND payload->>'conversation_id' = $2
               ORDER BY seq DESC LIMIT 1`,
              [tenantId, id],
            );
            suppressed =
              rows[0]?.reason ?? (result.outcome === 'ignored' ? `conversation_${result.state}` : 'not_sent');
          }
          const body = { conversation: await detail(tenantId, id), suppressed_reason: suppressed };
          if (path === 'messages' && suppressed === null)
            return reply.code(201).send({ ...body, suppressed_reason: null });
          return body;
        },
      );

    operate('takeover', 'Take the conversation over: the assistant goes silent', (operatorId) => ({
      type: 'HumanTakeoverRequested',
      operatorId,
      at: new Date().toISOString(),
    }));
    operate('release', 'Hand the conversation back to the assistant', (operatorId) => ({
      type: 'HumanReleased',
      operatorId,
      at: new Date().toISOString(),
    }));
    operate('close', 'Close the conversation', (operatorId) => ({
      type: 'CloseRequested',
      operatorId,
      at: new Date().toISOString(),
    }));
    operate(
      'messages',
      'Send a text as the operator (takes the conversation over first)',
      (operatorId, body) => ({
        type: 'OperatorMessage',
        operatorId,
        body: body.body ?? '',
        at: new Date().toISOString(),
      }),
      { withBody: true, operationId: 'sendConversationMessage' },
    );
  };
}
