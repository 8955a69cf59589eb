import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.ts';
import type { Pool } from '../../src/persistence/db.ts';
import { QUEUES } from '../../src/runtime/job-queues.ts';
import { type SandboxSystem, startSandboxSystem } from '../../test/helpers/sandbox-system.ts';
import { sleep } from './load.ts';

// The whole system as `npm start` composes it (startSandboxSystem), in this process. Its log lines
// (warn and above) go to stderr, and errors are counted for the report.

export type BenchSystem = SandboxSystem & {
  loggedErrors(): number;
  loggedWarnings(): number;
  /** Waits until no send job is waiting or running (the workers have caught up); returns ms waited. */
  drain(timeoutMs: number): Promise<{ ms: number; pending: number }>;
  /**
   * Work the system still owes the demo tenant's recent traffic: sends and conversation timers due
   * now or within 10 s (an assistant reply waits a few seconds: DEFAULT_REPLY_DELAY_SECONDS),
   * undelivered outbox events, and recent outbound texts without their final status. One statement.
   */
  pendingWork(): Promise<number>;
  /**
   * Waits until pendingWork() is 0 twice, 500 ms apart (a status callback may be on its way).
   * `quiet` is false on timeout; `polls` is how many statements the waiting itself ran.
   */
  settle(timeoutMs: number): Promise<{ quiet: boolean; polls: number }>;
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
  const pendingWork = async (): Promise<number> => {
    const { rows } = await started.system.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM pgboss.job WHERE name IN ($2, $3) AND state IN ('created', 'retry', 'active')
                 AND start_after <= now() + interval '10 seconds')
            + (SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL AND next_attempt_at <= now())
            + (SELECT count(*) FROM conv_messages WHERE tenant_id = $1 AND direction = 'out' AND status IN ('queued', 'sending', 'sent')
               AND created_at > now() - interval '30 seconds')
            AS n`,
      [started.demo.id, QUEUES.smsSend, QUEUES.conversationTimer],
    );
    return Number(rows[0]?.n ?? 0);
  };
  return {
    ...started,
    loggedErrors: () => errors,
    loggedWarnings: () => warnings,
    drain: (timeoutMs) => drainSends(started.system.db, timeoutMs),
    pendingWork,
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let polls = 0;
      const idle = async () => {
        polls += 1;
        return (await pendingWork()) === 0;
      };
      while (Date.now() < deadline) {
        if (await idle()) {
          await sleep(500);
          if (await idle()) return { quiet: true, polls };
        } else await sleep(50);
      }
      return { quiet: false, polls };
    },
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
