import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTracing } from '../../src/observability/tracing-sdk.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// One trace per webhook: a missed call's dial-status webhook → its dispatch → the outbox write and
// the send job it enqueued → the job's processing in the worker → the provider call, every span in
// the webhook's trace, the correlation id on the request's span. Spans are collected in memory.

const exporter = new InMemorySpanExporter();
let tracing: { shutdown(): Promise<void> };
let t: TestSystem;

beforeAll(async () => {
  tracing = await registerTracing({ processors: [new SimpleSpanProcessor({ exporter })] });
  t = await startTestSystem();
});
afterAll(async () => {
  await t?.stop();
  await tracing?.shutdown();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('traces', () => {
  it('follow a missed call from the webhook to the provider call in one trace', async () => {
    await t.phone.missedCall({ from: '+13105550178', to: DEMO.twilio_number });
    await t.sandbox.waitForMessages(1);
    // The provider call's parent (the job's processing span) ends after it: wait for both.
    const spans = await waitFor(async () => {
      const all = exporter.getFinishedSpans();
      const call = all.find((s) => s.name === 'twilio messages.create');
      return call && all.some((s) => s.spanContext().spanId === parentOf(call)) ? all : null;
    });
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const named = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      expect(found, name).toHaveLength(1);
      return found[0] as ReadableSpan;
    };
    const webhook = named('POST /webhooks/twilio/voice/dial-status');
    const dispatch = named('dispatch MissedCall');
    const outbox = spans.find(
      (s) => s.name === 'outbox write' && parentOf(s) === dispatch.spanContext().spanId,
    );
    const enqueue = named('send sms-send');
    const provider = named('twilio messages.create');
    const processing = byId.get(parentOf(provider) ?? '');

    expect(parentOf(webhook)).toBeUndefined();
    expect(webhook.attributes['nmc.correlation_id']).toEqual(expect.any(String));
    expect(webhook.attributes['http.response.status_code']).toBe(200);
    expect(parentOf(dispatch)).toBe(webhook.spanContext().spanId);
    expect(dispatch.attributes['nmc.correlation_id']).toBe(webhook.attributes['nmc.correlation_id']);
    expect(outbox).toBeDefined();
    expect(parentOf(enqueue)).toBe(dispatch.spanContext().spanId);
    // The worker's processing continues the trace from the job's stored context.
    expect(processing?.name).toBe('process sms-send');
    expect(parentOf(processing as ReadableSpan)).toBe(enqueue.spanContext().spanId);
    const trace = webhook.spanContext().traceId;
    for (const span of [dispatch, outbox, enqueue, processing, provider]) {
      expect(span?.spanContext().traceId, span?.name).toBe(trace);
    }
    // Span attributes carry ids, never the caller's number or the text.
    for (const span of spans) expect(JSON.stringify(span.attributes)).not.toContain('3105550178');
  });
});
