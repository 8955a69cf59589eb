import type { Tenant } from '../../src/persistence/repositories/tenants.ts';
import type { SimulatedPhone } from '../../src/providers/twilio/sandbox/phone.ts';
import type { TwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import type { System } from '../../src/system.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { captureLogger } from './logs.ts';
import { startSandboxSystem } from './sandbox-system.ts';

// The whole system as `npm start` composes it (startSandboxSystem), on a test database of its own,
// with its log lines kept for assertions.

export type TestSystem = {
  system: System;
  database: TestDatabase;
  sandbox: TwilioSandbox;
  phone: SimulatedPhone;
  demo: Tenant;
  baseUrl: string;
  logLines: () => string[];
  stop(): Promise<void>;
};

export async function startTestSystem(env: Record<string, string> = {}): Promise<TestSystem> {
  const database = await createTestDatabase();
  const { logger, lines } = captureLogger('info');
  const started = await startSandboxSystem({
    databaseUrl: database.url,
    logger,
    env,
    // Tests expect each text to be answered at once; a test about bursts sets its own delay.
    demoSettings: { reply_delay_seconds: 0 },
  }).catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  return {
    ...started,
    database,
    logLines: lines,
    async stop() {
      await started.system.stop();
      // A shutdown step that had to be abandoned is a bug worth seeing in the test output.
      for (const line of lines().filter((l) => l.includes('did not finish in time'))) console.warn(line);
      await database.drop();
    },
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 5_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
