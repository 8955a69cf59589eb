import { performance } from 'node:perf_hooks';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { callerPool } from '../lib/callers.ts';
import { closedLoop, sleep } from '../lib/load.ts';
import { sqlStatements } from '../lib/sql-count.ts';
import type { BenchSystem } from '../lib/system.ts';
import { INBOUND_BODY } from './engine.ts';

// Every SQL statement one inbound SMS costs the whole system, until it has settled: the webhook's
// transaction, the assistant's reply (a conversation timer a few seconds later), its send, its
// status callbacks and the outbox deliveries of all their events (BenchSystem.pendingWork). A fixed number of texts (one in four from a caller with a conversation, as in the inbound
// phase) at c8, then wait until nothing is pending. The statements the system runs when idle
// (pg-boss's monitor, the pollers) are measured just before and just after (2 s each, the lower
// rate counts) and subtracted for the measured window, and so are this scenario's own polls.
// The previous phases' backlog (their replies, callbacks and outbox deliveries) must have drained
// first, or it would be counted as this phase's cost or as idle: `settled` says whether both waits
// ended quiet within `timeoutMs`.

export type SqlPerSmsResult = {
  texts: number;
  perSms: number;
  idlePerSecond: number;
  settleMs: number;
  /** Quiet before the texts and after them (the figure is only meaningful when true). */
  settled: boolean;
};

const newCaller = callerPool('530');
const IDLE_MS = 2_000;

export async function sqlPerInboundSms(
  bench: BenchSystem,
  options: { texts: number; existingCallers: readonly string[]; timeoutMs: number },
): Promise<SqlPerSmsResult> {
  let ownPolls = 0;
  const settle = async (timeoutMs: number): Promise<boolean> => {
    const { quiet, polls } = await bench.settle(timeoutMs);
    ownPolls += polls;
    return quiet;
  };
  const quietBefore = await settle(options.timeoutMs);

  const idleRate = async (): Promise<number> => {
    const start = sqlStatements();
    const t = performance.now();
    await sleep(IDLE_MS);
    return (sqlStatements() - start) / (performance.now() - t);
  };
  const idleBefore = await idleRate();

  ownPolls = 0;
  const before = sqlStatements();
  const t0 = performance.now();
  const { existingCallers } = options;
  const result = await closedLoop({
    concurrency: 8,
    durationMs: options.timeoutMs,
    maxOps: options.texts,
    task: async (i) => {
      const existing = existingCallers.length > 0 && i % 4 === 0;
      const from = existing ? (existingCallers[(i / 4) % existingCallers.length] as string) : newCaller(i);
      const { response } = await bench.phone.sms({ from, to: DEMO.twilio_number, body: INBOUND_BODY });
      if (response.status !== 200) throw new Error(`sms webhook answered ${response.status}`);
    },
  });
  const loadMs = performance.now() - t0;
  const quietAfter = await settle(options.timeoutMs);
  const windowMs = performance.now() - t0;
  const settleMs = windowMs - loadMs;
  const measured = sqlStatements();
  const idlePerMs = Math.min(idleBefore, await idleRate());
  const total = measured - before - ownPolls - idlePerMs * windowMs;
  const texts = result.ok + result.errors;
  return {
    texts,
    perSms: texts > 0 ? total / texts : Number.NaN,
    idlePerSecond: idlePerMs * 1000,
    settleMs,
    settled: quietBefore && quietAfter,
  };
}
