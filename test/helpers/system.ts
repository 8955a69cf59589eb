import { loadConfig } from '../../src/config.ts';
import { findTenantBySlug, type Tenant } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { createSimulatedPhone, type SimulatedPhone } from '../../src/providers/twilio/sandbox/phone.ts';
import type { TwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import { type System, startSystem } from '../../src/system.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { captureLogger } from './logs.ts';
import { freePort } from './processes.ts';

// The whole system as `npm start` composes it (startSystem), on a test database, listening on a
// loopback port so the sandbox Twilio can call its webhooks, with a simulated phone.

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
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const { logger, lines } = captureLogger('info');
  const system = await startSystem(
    loadConfig({ DATABASE_URL: database.url, PORT: String(port), NMC_DEMO: 'on', LOG_LEVEL: 'info', ...env }),
    logger,
  );
  const sandbox = system.twilioSandbox;
  if (!sandbox) throw new Error('the test system runs on the Twilio sandbox');
  // Tests expect each text to be answered at once; a test about bursts sets its own delay.
  await system.db.query(
    `UPDATE id_tenants SET settings = settings || '{"reply_delay_seconds": 0}'::jsonb WHERE slug = $1`,
    [DEMO.slug],
  );
  const demo = await findTenantBySlug(system.db, DEMO.slug);
  if (!demo) throw new Error('demo tenant missing');
  const phone = createSimulatedPhone({
    appBaseUrl: baseUrl,
    authToken: SANDBOX_ACCOUNT.authToken,
    accountSid: SANDBOX_ACCOUNT.accountSid,
  });
  return {
    system,
    database,
    sandbox,
    phone,
    demo,
    baseUrl,
    logLines: lines,
    async stop() {
      await system.stop();
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
