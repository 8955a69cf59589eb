import { performance } from 'node:perf_hooks';

// A closed-loop load generator: `concurrency` workers, each starting its next operation as soon as
// the previous one ends, until the time is up or `maxOps` operations were started. Every operation
// gets a distinct index (callers, sids…) and its latency is kept for percentiles.

export type LoadResult = {
  ok: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  /** Latency of each successful operation, in ms, sorted ascending. */
  latenciesMs: number[];
  /** Successful operations per second. */
  perSecond: number;
  /** How much `meter` advanced during the measured window, per operation started in it. */
  meteredPerOp: number;
};

export type LoadOptions = {
  concurrency: number;
  durationMs: number;
  /** Stop starting operations after this many (measured ones; warm-up ones are not counted). */
  maxOps?: number;
  /** Run the same loop this long first and throw its numbers away (JIT, pool connections). */
  warmupMs?: number;
  /** First index handed to `task`; indexes keep counting through warm-up and measurement. */
  firstIndex?: number;
  task: (index: number) => Promise<void>;
  /** A process-wide counter read at the start and end of the measured window (SQL statements). */
  meter?: () => number;
};

export async function closedLoop(options: LoadOptions): Promise<LoadResult & { nextIndex: number }> {
  let next = options.firstIndex ?? 0;
  if (options.warmupMs && options.warmupMs > 0) {
    await loop(options.concurrency, options.warmupMs, undefined, () => next++, options.task);
  }
  const meter = options.meter ?? (() => Number.NaN);
  const before = meter();
  const result = await loop(
    options.concurrency,
    options.durationMs,
    options.maxOps,
    () => next++,
    options.task,
  );
  const ops = result.ok + result.errors;
  return { ...result, meteredPerOp: ops > 0 ? (meter() - before) / ops : Number.NaN, nextIndex: next };
}

async function loop(
  concurrency: number,
  durationMs: number,
  maxOps: number | undefined,
  nextIndex: () => number,
  task: (index: number) => Promise<void>,
): Promise<Omit<LoadResult, 'meteredPerOp'>> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | null = null;
  const begin = performance.now();
  const end = begin + durationMs;
  const worker = async () => {
    while (performance.now() < end && (maxOps === undefined || started < maxOps)) {
      started += 1;
      const index = nextIndex();
      const t0 = performance.now();
      try {
        await task(index);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors += 1;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - begin;
  latencies.sort((a, b) => a - b);
  return {
    ok: latencies.length,
    errors,
    firstError,
    elapsedMs,
    latenciesMs: latencies,
    perSecond: latencies.length / (elapsedMs / 1000),
  };
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sortedAsc: readonly number[], p: number): number {
  if (sortedAsc.length === 0) return Number.NaN;
  const rank = Math.min(sortedAsc.length, Math.max(1, Math.ceil((p / 100) * sortedAsc.length)));
  return sortedAsc[rank - 1] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
