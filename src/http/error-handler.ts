import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, ERROR_CATALOG, type ErrorCode, isAppError } from '../domain/errors.ts';
import { allowedMethodsFor } from './allowed-methods.ts';
import type { ErrorEnvelope } from './error-envelope.ts';

// One central mapping from whatever was thrown to the catalog's envelope. Client mistakes are
// 4xx with a code; a response that breaks its schema is `contract_violation`; anything unknown is
// `internal`, logged in full here and hidden from the client.

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed_body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_RATE_LIMIT_EXCEEDED: 'rate_limited',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    const where = first?.instancePath
      ? `${err.validationContext ?? 'request'}${first.instancePath.replaceAll('/', '.')}`
      : (err.validationContext ?? 'request');
    return new AppError('validation_failed', `${where}: ${first?.message ?? 'invalid'}`);
  }
  if (isResponseSerializationError(err)) {
    return new AppError('contract_violation', 'the response did not match its documented schema', {
      cause: err,
    });
  }
  const databaseError = classifyDatabaseError(err);
  if (databaseError) return databaseError;
  const fastifyError = err as Partial<FastifyError> & { statusCode?: number };
  if (err instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new AppError('malformed_body', 'the request body is not valid JSON');
  }
  const byCode = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (byCode) return new AppError(byCode, cleanMessage(byCode, fastifyError.message));
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'validation_failed';
    return new AppError(code, cleanMessage(code, fastifyError.message));
  }
  return new AppError('internal', 'internal error', { cause: err });
}

// Postgres refusing a character it cannot store (a NUL byte) is the client's input; so is any
// other data exception (class 22: a number or date out of range, a malformed value). Schemas refuse
// those first; this is the last line for one that slips through, logged (see below) so the missing
// check can be added. Postgres being unreachable or restarting is temporary (a provider retries on 503).
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);
const DATA_EXCEPTION_CLASS = '22';
const DATABASE_UNAVAILABLE = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
]);

function classifyDatabaseError(err: unknown): AppError | null {
  const code = (err as { code?: unknown }).code;
  const message = (err as { message?: unknown }).message;
  if (typeof code === 'string' && UNSTORABLE_TEXT.has(code)) {
    return new AppError(
      'validation_failed',
      'the request contains characters that cannot be stored (e.g. NUL)',
    );
  }
  if (typeof code === 'string' && code.length === 5 && code.startsWith(DATA_EXCEPTION_CLASS)) {
    return new AppError('validation_failed', 'a value in the request is out of range or malformed', {
      cause: err,
    });
  }
  const lostConnection =
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect/.test(message);
  if ((typeof code === 'string' && DATABASE_UNAVAILABLE.has(code)) || lostConnection) {
    return new AppError('unavailable', 'temporarily unavailable; retry shortly', {
      cause: err,
      headers: { 'retry-after': '5' },
    });
  }
  return null;
}

function cleanMessage(code: ErrorCode, message: string | undefined): string {
  if (code === 'payload_too_large') return 'the request body is too large';
  if (code === 'unsupported_media_type') return 'unsupported content type';
  if (code === 'rate_limited') return 'too many requests';
  return message && message.length < 300 ? message : code.replaceAll('_', ' ');
}

export function envelope(code: ErrorCode, message: string, correlationId: string): ErrorEnvelope {
  return { error: { code, message, correlation_id: correlationId } };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(err);
    if (appError.status >= 500) {
      request.log.error({ err: appError.cause ?? err, code: appError.code }, 'request failed');
    } else if (appError.cause !== undefined && appError !== err) {
      // A client error found by a lower layer (the database) rather than by the route's schema.
      request.log.warn({ err: appError.cause, code: appError.code }, 'request refused below its schema');
    }
    for (const [name, value] of Object.entries(appError.headers)) reply.header(name, value);
    const retryAfter = (err as { headers?: Record<string, string> }).headers?.['retry-after'];
    if (retryAfter) reply.header('retry-after', retryAfter);
    // Error bodies bypass route response schemas: they are always the envelope.
    return reply
      .code(ERROR_CATALOG[appError.code])
      .type('application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(envelope(appError.code, appError.message, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = allowedMethodsFor(path, request.server.routeTable ?? []);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .type('application/json; charset=utf-8')
        .serializer(JSON.stringify)
        .send(envelope('method_not_allowed', `${request.method} is not allowed on ${path}`, request.id));
    }
    return reply
      .code(404)
      .type('application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(envelope('not_found', `no route ${request.method} ${request.url.split('?')[0]}`, request.id));
  });
}
