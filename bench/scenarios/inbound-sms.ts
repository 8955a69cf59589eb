import { DEMO } from '../../src/persistence/seed-demo.ts';
import { callerPool } from '../lib/callers.ts';
import { closedLoop, type LoadResult } from '../lib/load.ts';
import { sqlStatements } from '../lib/sql-count.ts';
import type { BenchSystem } from '../lib/system.ts';
import { INBOUND_BODY } from './engine.ts';

// Inbound SMS through the whole system: signed Twilio webhooks (the simulated phone) into the API,
// each answered only after its transaction committed the inbound message, the event, the
// assistant's reply (catalog match → open slots → quote) and its send job. One caller in four
// already has a conversation (the first-SMS callers, round robin); the rest are new callers.
// The workers run meanwhile, sending the replies to the sandbox, as they would in production.

export type InboundOptions = {
  concurrency: number;
  durationMs: number;
  existingCallers: readonly string[];
  firstIndex: number;
};

const newCaller = callerPool('916');

export async function inboundSms(
  bench: BenchSystem,
  options: InboundOptions,
): Promise<LoadResult & { nextIndex: number }> {
  const { existingCallers } = options;
  return closedLoop({
    meter: sqlStatements,
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    warmupMs: 500,
    firstIndex: options.firstIndex,
    task: async (i) => {
      const existing = existingCallers.length > 0 && i % 4 === 0;
      const from = existing ? (existingCallers[(i / 4) % existingCallers.length] as string) : newCaller(i);
      const { response } = await bench.phone.sms({ from, to: DEMO.twilio_number, body: INBOUND_BODY });
      if (response.status !== 200)
        throw new Error(`sms webhook answered ${response.status}: ${response.body.slice(0, 120)}`);
    },
  });
}
