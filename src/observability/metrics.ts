import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

// One registry per application instance (no global state, so tests can build many apps).
export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'nmc_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsDispatched: new Counter({
      name: 'nmc_conversation_events_total',
      help: 'Conversation events applied by the actor host, by event type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    smsSent: new Counter({
      name: 'nmc_sms_send_attempts_total',
      help: 'Outbound SMS send attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    // The primary objective: missed call → the provider accepted our first text, P95 ≤ 5 s.
    firstResponse: new Histogram({
      name: 'nmc_first_response_seconds',
      help: 'Missed call recorded → the provider accepted the greeting text',
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    outboxDelivered: new Counter({
      name: 'nmc_outbox_deliveries_total',
      help: 'Outbox events delivered to subscribers, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
