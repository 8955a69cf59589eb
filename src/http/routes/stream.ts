import { createHash, randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { consumeStreamToken, insertStreamToken } from '../../persistence/repositories/stream-tokens.ts';
import type { StreamMessage } from '../../runtime/stream-hub.ts';
import { actionBody } from '../action-body.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { instant } from '../schemas.ts';

// The operator's live stream. A browser's EventSource cannot send an Authorization header, and no
// long-lived credential may travel in a URL, so a stream opens with an stoken: minted with the
// bearer token (POST /api/v1/stream-tokens), valid 60 s, spent by the first GET that presents it.
// The stream route is therefore `public` to the bearer check, and its tenant comes from the
// stoken's row alone — never from a header, a query parameter or a bearer token.
//
// A client that loses its stream mints a new stoken and reopens with `last_event_id` (the spent
// stoken cannot be reused, so EventSource's own automatic reconnect gets 401 by design).

export const STOKEN_TTL_SECONDS = 60;
const STOKEN_BYTES = 32;
// A client that stops reading is cut off rather than buffered without bound; it resumes by id.
const MAX_BUFFERED_BYTES = 1024 * 1024;
const STREAM_ROUTE = '/api/v1/stream';
const seqText = z.string().regex(/^\d{1,15}$/, 'must be an event id (digits)');

export function newStreamToken(): string {
  return randomBytes(STOKEN_BYTES).toString('base64url');
}

export function hashStreamToken(stoken: string): string {
  return createHash('sha256').update(stoken).digest('hex');
}

/** One SSE message; JSON never contains a raw newline, so `data` is one line. */
export function formatStreamMessage(message: StreamMessage): string {
  if (message.type === 'heartbeat') return ': heartbeat\n\n';
  return `id: ${message.seq}\nevent: ${message.envelope.event_name}\ndata: ${JSON.stringify(message.envelope)}\n\n`;
}

export function streamRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Open streams never finish on their own: end them when the server closes, or close() waits forever.
    const open = new Set<() => void>();
    app.addHook('preClose', async () => {
      for (const close of [...open]) close();
    });

    app.post(
      '/api/v1/stream-tokens',
      {
        config: { action: 'stream.subscribe' },
        schema: {
          tags: ['stream'],
          summary: 'Mint a single-use stoken (valid 60 s) that opens one event stream',
          security: [{ bearer: [] }],
          body: actionBody,
          response: {
            201: z.object({ stoken: z.string(), expires_at: instant }).meta({ id: 'StreamToken' }),
          },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const userId = request.principal?.userId;
        if (!userId) throw new AppError('forbidden', 'only a tenant user can open an event stream');
        const stoken = newStreamToken();
        const { expires_at } = await insertStreamToken(deps.db, {
          tenantId,
          userId,
          tokenHash: hashStreamToken(stoken),
          ttlSeconds: STOKEN_TTL_SECONDS,
        });
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({ stoken, expires_at: expires_at.toISOString() });
      },
    );

    app.get(
      STREAM_ROUTE,
      {
        // Not bearer-authenticated: the stoken is the credential (checked below, before anything streams).
        config: { public: true, errors: ['unauthorized'] },
        schema: {
          tags: ['stream'],
          summary: "The tenant's domain events as Server-Sent Events",
          operationId: 'openStream',
          security: [{ streamToken: [] }],
          produces: ['text/event-stream'],
          description:
            'Authenticated by a single-use `stoken` from POST /api/v1/stream-tokens (no Authorization header). ' +
            'Each message has `id` (the event seq), `event` (the event name) and `data` (the event envelope ' +
            'as JSON); a `: heartbeat` comment comes every 15 s. Resume after an id with the `Last-Event-ID` ' +
            'header or `last_event_id`; without either the stream starts from now.',
          querystring: z.object({
            stoken: z.string().min(20).max(200),
            last_event_id: seqText.optional(),
          }),
          headers: z.looseObject({ 'last-event-id': seqText.optional() }),
          response: {
            200: z
              .string()
              .describe(
                'Server-Sent Events: `id`, `event` and `data` (the event envelope as JSON) per message',
              )
              .meta({
                example:
                  ': connected\n\nid: 42\nevent: nmc.conversation.MessageReceived\ndata: {"seq":42}\n\n',
              }),
          },
        },
      },
      async (request, reply) => {
        const hub = deps.streamHub;
        // Checked before the stoken is spent, so a client can retry it on another process.
        if (!hub?.running()) throw new AppError('unavailable', 'the event stream is not available here');
        const grant = await consumeStreamToken(deps.db, hashStreamToken(request.query.stoken));
        if (!grant)
          throw new AppError('unauthorized', 'the stream token is invalid, expired or already used');
        const tenantId = grant.tenant_id;
        const resume = request.headers['last-event-id'] ?? request.query.last_event_id;
        const afterSeq = resume === undefined ? await hub.latestSeq(tenantId) : Number(resume);

        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          ...(reply.getHeaders() as OutgoingHttpHeaders),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.write(': connected\n\n');
        request.log.info({ route: STREAM_ROUTE, tenant_id: tenantId, after_seq: afterSeq }, 'stream opened');

        let closed = false;
        const write = (chunk: string) => {
          if (closed) return;
          raw.write(chunk);
          if (raw.writableLength > MAX_BUFFERED_BYTES) close();
        };
        const unsubscribe = hub.subscribe(tenantId, afterSeq, (message) =>
          write(formatStreamMessage(message)),
        );
        function close() {
          if (closed) return;
          closed = true;
          unsubscribe();
          open.delete(close);
          // A stream ended by the server (shutdown, a client that stopped reading) also drops its
          // connection: kept alive, it would hold server.close() until the client let go of it.
          if (!raw.writableEnded) raw.end(() => request.raw.socket?.destroy());
          request.log.info(
            { route: STREAM_ROUTE, tenant_id: tenantId, ms: Math.round(reply.elapsedTime) },
            'stream closed',
          );
        }
        open.add(close);
        raw.on('close', close);
        raw.on('error', close);
        // The client may have gone while the stoken was being checked: 'close' has fired already.
        if (raw.destroyed || request.raw.destroyed) close();
      },
    );
  };
}
