import { performance } from 'node:perf_hooks';
import { setPolicyValue } from '../../src/persistence/repositories/policy-values.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { callerPool } from '../lib/callers.ts';
import { percentile, sleep } from '../lib/load.ts';
import type { BenchSystem } from '../lib/system.ts';

// First SMS after a missed call, for N callers at once (20, then 100 in the run), through the whole
// system: the voice webhook for each caller first (so the call row exists), then all N dial-status
// `no-answer` webhooks fired together. Per caller: performance.now() just before its dial-status
// request is sent → the Twilio sandbox receiving the Messages request to that caller (the sandbox
// stamps `receivedAt.monotonicMs` with performance.now() in this same process). The ring-time
// minimum is set to 0 for the demo tenant so the calls need not ring 4 s first.

export type FirstSmsResult = {
  callers: string[];
  latenciesMs: number[];
  received: number;
  webhookMs: number[];
  webhookErrors: number;
  firstError: string | null;
};

const MESSAGES_PATH = /\/Messages\.json$/;

/** `areaCode`: each burst of a run draws its callers from its own area code (new conversations). */
export async function firstSms(
  bench: BenchSystem,
  count: number,
  timeoutMs: number,
  areaCode = '707',
): Promise<FirstSmsResult> {
  await setPolicyValue(bench.system.db, bench.demo.id, 'calls.min_ring_seconds', 0);
  const caller = callerPool(areaCode);
  const callers = Array.from({ length: count }, (_, i) => caller(i));
  let webhookErrors = 0;
  let firstError: string | null = null;
  const fail = (message: string) => {
    webhookErrors += 1;
    firstError ??= message;
  };

  const calls = await Promise.all(
    callers.map(async (from) => {
      const { callSid, response } = await bench.phone.call({ from, to: DEMO.twilio_number });
      if (response.status !== 200) fail(`voice webhook answered ${response.status}`);
      return { from, callSid };
    }),
  );
  await sleep(1_000); // let the voice webhooks' after-effects settle: the burst starts from quiet

  const sentAt = new Map<string, number>();
  const webhookMs: number[] = [];
  const burst = Promise.all(
    calls.map(async ({ from, callSid }) => {
      const t0 = performance.now();
      sentAt.set(from, t0);
      try {
        const response = await bench.phone.dialStatus({
          callSid,
          from,
          to: DEMO.twilio_number,
          dialCallStatus: 'no-answer',
        });
        webhookMs.push(performance.now() - t0);
        if (response.status !== 200) fail(`dial-status webhook answered ${response.status}`);
      } catch (err) {
        fail(`dial-status webhook failed: ${(err as Error).message}`);
      }
    }),
  );

  const arrived = new Map<string, number>();
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const request of bench.sandbox.requests()) {
      if (request.method !== 'POST' || !MESSAGES_PATH.test(request.path)) continue;
      const to = request.params.To;
      if (typeof to !== 'string' || !sentAt.has(to) || arrived.has(to)) continue;
      arrived.set(to, request.receivedAt.monotonicMs);
    }
    if (arrived.size >= callers.length || performance.now() > deadline) break;
    await sleep(25);
  }
  await burst;

  const latenciesMs = [...arrived].map(([to, at]) => at - (sentAt.get(to) ?? at)).sort((a, b) => a - b);
  webhookMs.sort((a, b) => a - b);
  return { callers, latenciesMs, received: arrived.size, webhookMs, webhookErrors, firstError };
}

export function summarize(latencies: number[]): { p50: number; p95: number; p99: number } {
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) };
}
