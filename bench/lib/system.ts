import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.ts';
import type { Pool } from '../../src/persistence/db.ts';
import { type SandboxSystem, startSandboxSystem } from '../../test/helpers/sandbox-system.ts';
import { sleep } from './load.ts';

// The whole system as `npm start` composes it (startSandboxSystem), in this process. Its log lines
// (warn and above) go to stderr, and errors are counted for the report.

export type BenchSystem = SandboxSystem & {
  loggedErrors(): number;
  loggedWarnings(): number;
  /** Waits until no send job is waiting or running (the workers have caught up); returns ms waited. */
  drain(timeoutMs: number): Promise<{ ms: number; pending: number }>;
  stop(): Promise<void>;
};

/** `env` adds configuration (e.g. a higher RATE_LIMIT_PER_MINUTE for a scenario that needs it). */
export async function startBenchSystem(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<BenchSystem> {
  let errors = 0;
  let warnings = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        const level = /"level":(\d+)/.exec(line)?.[1];
        if (level === undefined) continue;
        if (Number(level) >= 50) errors += 1;
        else if (Number(level) >= 40) warnings += 1;
      }
      process.stderr.write(chunk, () => done());
    },
  });
  const started = await startSandboxSystem({ databaseUrl, logger: createLogger('warn', sink), env });
  return {
    ...started,
    loggedErrors: () => errors,
    loggedWarnings: () => warnings,
    drain: (timeoutMs) => drainSends(started.system.db, timeoutMs),
    stop: () => started.system.stop(),
  };
}

async function drainSends(db: Pool, timeoutMs: number): Promise<{ ms: number; pending: number }> {
  const started = Date.now();
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job
       WHERE name = 'sms-send' AND state IN ('created', 'retry', 'active') AND start_after <= now()`,
    );
    const pending = rows[0]?.n ?? 0;
    if (pending === 0 || Date.now() - started > timeoutMs) return { ms: Date.now() - started, pending };
    await sleep(100);
  }
}
