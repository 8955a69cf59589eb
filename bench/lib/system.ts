import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Pool } from '../../src/persistence/db.ts';
import { findTenantBySlug, type Tenant } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { createSimulatedPhone, type SimulatedPhone } from '../../src/providers/twilio/sandbox/phone.ts';
import type { TwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import { type System, startSystem } from '../../src/system.ts';
import { freePort } from '../../test/helpers/processes.ts';
import { sleep } from './load.ts';

// The whole system as `npm start` composes it (startSystem: API, workers, outbox dispatcher, the
// Twilio sandbox), in this process, on a loopback port, with the demo tenant and a simulated phone.
// Its log lines (warn and above) go to stderr, and errors are counted for the report.

export type BenchSystem = {
  system: System;
  sandbox: TwilioSandbox;
  phone: SimulatedPhone;
  demo: Tenant;
  baseUrl: string;
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
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
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
  const logger = createLogger('warn', sink);
  const system = await startSystem(
    loadConfig({ DATABASE_URL: databaseUrl, PORT: String(port), NMC_DEMO: 'on', LOG_LEVEL: 'warn', ...env }),
    logger,
  );
  try {
    const sandbox = system.twilioSandbox;
    if (!sandbox) throw new Error('the bench runs the system on the Twilio sandbox');
    const demo = await findTenantBySlug(system.db, DEMO.slug);
    if (!demo) throw new Error('demo tenant missing after start');
    const phone = createSimulatedPhone({
      appBaseUrl: baseUrl,
      authToken: SANDBOX_ACCOUNT.authToken,
      accountSid: SANDBOX_ACCOUNT.accountSid,
    });
    return {
      system,
      sandbox,
      phone,
      demo,
      baseUrl,
      loggedErrors: () => errors,
      loggedWarnings: () => warnings,
      drain: (timeoutMs) => drainSends(system.db, timeoutMs),
      stop: () => system.stop(),
    };
  } catch (err) {
    await system.stop();
    throw err;
  }
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
