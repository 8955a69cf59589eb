import { loadConfig } from '../../src/config.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { findTenantBySlug, type Tenant } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { createSimulatedPhone, type SimulatedPhone } from '../../src/providers/twilio/sandbox/phone.ts';
import type { TwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import { type System, startSystem } from '../../src/system.ts';
import { freePort } from './processes.ts';

// The whole system as `npm start` composes it (startSystem: API, workers, outbox dispatcher, the
// Twilio sandbox), in this process, listening on a loopback port so the sandbox can call its
// webhooks, with the demo tenant and a simulated phone. The tests (test/helpers/system.ts) and the
// bench (bench/lib/system.ts) add their own parts on top: a database, log capture, a drain.

export type SandboxSystem = {
  system: System;
  sandbox: TwilioSandbox;
  phone: SimulatedPhone;
  demo: Tenant;
  baseUrl: string;
};

export async function startSandboxSystem(options: {
  databaseUrl: string;
  logger: Logger;
  /** Configuration on top of the defaults (e.g. a higher RATE_LIMIT_PER_MINUTE). */
  env?: Record<string, string>;
  /** Merged into the demo tenant's settings before it is read back. */
  demoSettings?: Record<string, unknown>;
}): Promise<SandboxSystem> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const level = options.logger.level;
  const system = await startSystem(
    loadConfig({
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      NMC_DEMO: 'on',
      LOG_LEVEL: level,
      ...options.env,
    }),
    options.logger,
  );
  try {
    const sandbox = system.twilioSandbox;
    if (!sandbox) throw new Error('the system under test runs on the Twilio sandbox');
    if (options.demoSettings) {
      await system.db.query(`UPDATE id_tenants SET settings = settings || $2::jsonb WHERE slug = $1`, [
        DEMO.slug,
        JSON.stringify(options.demoSettings),
      ]);
    }
    const demo = await findTenantBySlug(system.db, DEMO.slug);
    if (!demo) throw new Error('demo tenant missing after start');
    const phone = createSimulatedPhone({
      appBaseUrl: baseUrl,
      authToken: SANDBOX_ACCOUNT.authToken,
      accountSid: SANDBOX_ACCOUNT.accountSid,
    });
    return { system, sandbox, phone, demo, baseUrl };
  } catch (err) {
    await system.stop();
    throw err;
  }
}
