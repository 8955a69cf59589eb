import type { PgBoss } from 'pg-boss';
import { createLogger } from '../../src/observability/logger.ts';
import { SANDBOX_STRIPE } from '../../src/providers/stripe/account.ts';
import { createStripeClient } from '../../src/providers/stripe/client.ts';
import { type StripeSandbox, startStripeSandbox } from '../../src/providers/stripe/sandbox/server.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { createTwilioClient } from '../../src/providers/twilio/client.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import { convergeTenant } from '../../src/runtime/provisioning/converge.ts';
import type { ProvisioningDeps } from '../../src/runtime/provisioning/provisioning-deps.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startBossForTests } from './engine.ts';

// Convergence against the Twilio and Stripe sandboxes through the real SDKs, on a test database of
// its own, with no worker: a test drives runs itself (`runUntilSettled`), so each fault lands
// exactly where the test puts it. Provider timeouts are short, so "the provider acted but the
// answer came too late" costs a test milliseconds.

export type ProvisioningHarness = {
  database: TestDatabase;
  boss: PgBoss;
  twilio: TwilioSandbox;
  stripe: StripeSandbox;
  deps: ProvisioningDeps;
  /** Runs convergence until it converges, is blocked, or waits (retries are made due at once). */
  runUntilSettled(
    tenantId: string,
    maxRuns?: number,
  ): Promise<Awaited<ReturnType<typeof convergeTenant>>['plan']>;
  stop(): Promise<void>;
};

export const WEBHOOK_BASE = 'https://nmc.test';

export async function startProvisioningHarness(
  options: { timeoutMs?: number } = {},
): Promise<ProvisioningHarness> {
  const database = await createTestDatabase();
  const boss = await startBossForTests(database.url);
  const twilio = await startTwilioSandbox({ ...SANDBOX_ACCOUNT, delivery: false });
  const stripe = await startStripeSandbox({
    secretKey: SANDBOX_STRIPE.secretKey,
    webhookSecret: SANDBOX_STRIPE.webhookSecret,
    // No app listens: events go nowhere (the billing mirror is not under test here).
    webhookUrl: 'http://127.0.0.1:9/webhooks/stripe',
  });
  const timeoutMs = options.timeoutMs ?? 1_000;
  const deps: ProvisioningDeps = {
    db: database.pool,
    boss,
    twilio: createTwilioClient({ ...SANDBOX_ACCOUNT, apiBaseUrl: twilio.url, timeoutMs }),
    stripe: createStripeClient({ secretKey: SANDBOX_STRIPE.secretKey, apiBaseUrl: stripe.url, timeoutMs }),
    webhookBaseUrl: WEBHOOK_BASE,
    logger: createLogger('silent'),
    reviewPollMs: 0,
    // Retries are immediate: the backoff's bounds are unit-tested (test/unit/domain/backoff.test.ts).
    random: () => 0,
  };
  return {
    database,
    boss,
    twilio,
    stripe,
    deps,
    async runUntilSettled(tenantId, maxRuns = 20) {
      let last: Awaited<ReturnType<typeof convergeTenant>>['plan'] = { kind: 'converged' };
      for (let i = 0; i < maxRuns; i += 1) {
        last = (await convergeTenant(deps, tenantId, `test:${i}`)).plan;
        if (last.kind === 'converged' || last.kind === 'blocked') return last;
        if (last.kind === 'yielded') continue;
        if (last.kind === 'later' && last.why === 'lease') return last;
        // A backoff or a review: make it due now.
        await database.pool.query(
          "UPDATE prov_steps SET next_attempt_at = now() - interval '1 second' WHERE tenant_id = $1 AND status IN ('pending', 'waiting')",
          [tenantId],
        );
      }
      return last;
    },
    async stop() {
      await boss.stop({ graceful: false, timeout: 1_000 }).catch(() => undefined);
      await twilio.close();
      await stripe.close();
      await database.drop();
    },
  };
}
