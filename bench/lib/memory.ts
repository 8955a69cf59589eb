import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Memory of this process, which hosts the whole system during the system phases. A full GC before a
// sample (when the runtime lets us expose it) makes heap numbers comparable between phases; RSS is
// reported as the OS sees it.

let gc: (() => void) | undefined;
try {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as () => void;
} catch {
  gc = undefined;
}

export type MemorySample = { label: string; rssMb: number; heapUsedMb: number; gc: boolean };

const MB = 1024 * 1024;

export function sampleMemory(label: string, options: { collect?: boolean } = {}): MemorySample {
  const collect = options.collect !== false && gc !== undefined;
  if (collect) gc?.();
  const usage = process.memoryUsage();
  return { label, rssMb: usage.rss / MB, heapUsedMb: usage.heapUsed / MB, gc: collect };
}
