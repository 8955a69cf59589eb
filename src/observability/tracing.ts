import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

// Spans through the OpenTelemetry API. Without a registered SDK (OTEL_* unset: see
// tracing-sdk.ts) the API is a no-op, so instrumented code costs next to nothing. A trace follows a
// webhook: the HTTP request (src/http/tracing-hooks.ts) → the dispatch of its event → the jobs it
// enqueues (pg-boss stores the trace context on the job and continues it in the worker) → the
// provider call. Attributes carry ids, never a phone number or a text.

export const CORRELATION_ATTRIBUTE = 'nmc.correlation_id';
export const TRACER_NAME = 'nevermisscall';

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** Runs `work` in a new active span (a child of the current one), recording a thrown error. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}
