import { context, propagation, trace } from '@opentelemetry/api';

// The OpenTelemetry SDK, registered only when the standard variables ask for traces
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and OTEL_TRACES_EXPORTER not
// `none`); the exporter reads the rest of OTEL_* itself (headers, protocol, timeouts). Loaded lazily:
// a process without tracing never carries the SDK.

export type SpanProcessorLike = import('@opentelemetry/sdk-trace').SpanProcessor;

export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_TRACES_EXPORTER === 'none' || env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers a tracer provider, the async-local context manager and the W3C propagator globally.
 * `processors` default to a batching OTLP/HTTP exporter; tests pass an in-memory one.
 */
export async function registerTracing(
  options: { serviceName?: string; processors?: SpanProcessorLike[] } = {},
): Promise<{ shutdown(): Promise<void> }> {
  const [
    { TracerProvider, BatchSpanProcessor },
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  let processors = options.processors;
  if (!processors) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processors = [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })];
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME ?? options.serviceName ?? 'nevermisscall',
    }),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
