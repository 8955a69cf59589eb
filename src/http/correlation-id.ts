import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { EventTrace } from '../runtime/scheduling/appointment-events.ts';

export const CORRELATION_HEADER = 'x-correlation-id';
// Accept a caller's id only when it is short and plain, so it is safe to echo and to log.
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

export function correlationIdFor(req: IncomingMessage): string {
  const header = req.headers[CORRELATION_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && WELL_FORMED.test(value) ? value : randomUUID();
}

/** The events a request's change writes carry its correlation id (the request id). */
export function traceOf(request: FastifyRequest): EventTrace {
  return { correlationId: request.id, causationId: null };
}
