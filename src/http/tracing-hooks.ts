import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { CORRELATION_ATTRIBUTE, tracer } from '../observability/tracing.ts';

// One server span per request, named by the matched route (never the raw URL: ids and tokens stay
// out of span names). It continues a caller's W3C traceparent, and the rest of the request runs in
// its context, so the dispatch and the jobs the request enqueues join the same trace. With no SDK
// registered, the spans are no-ops.

const spans = new WeakMap<object, Span>();

export function registerTracingHooks(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(context.active(), request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer().startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          [CORRELATION_ATTRIBUTE]: request.id,
        },
      },
      parent,
    );
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
