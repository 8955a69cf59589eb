import type { Config } from '../../config.ts';
import type { Logger } from '../../observability/logger.ts';
import { stripeAccountFrom } from './account.ts';
import { createStripeClient, type StripeClient } from './client.ts';
import type { StripeSandbox } from './sandbox/server.ts';

// Stripe for the API process: the real account when STRIPE_SECRET_KEY is set, else the sandbox on
// a loopback port of its own (unless STRIPE_API_BASE_URL points elsewhere, e.g. stripe-mock). The
// sandbox posts its events to this process's own webhook at PUBLIC_BASE_URL.

export type OpenedStripe = {
  client: StripeClient;
  webhookSecret: string;
  sandbox?: StripeSandbox;
  close(): Promise<void>;
};

export async function openStripe(config: Config, logger: Logger): Promise<OpenedStripe> {
  const account = stripeAccountFrom(config);
  if (account.sandbox && !account.apiBaseUrl) {
    // Loaded only when used: a system on a real account never carries the sandbox's code.
    const { startStripeSandbox } = await import('./sandbox/server.ts');
    const sandbox = await startStripeSandbox({
      secretKey: account.secretKey,
      webhookSecret: account.webhookSecret,
      webhookUrl: `${config.PUBLIC_BASE_URL}/webhooks/stripe`,
      logger,
    });
    return {
      client: createStripeClient({ secretKey: account.secretKey, apiBaseUrl: sandbox.url }),
      webhookSecret: account.webhookSecret,
      sandbox,
      close: () => sandbox.close(),
    };
  }
  return {
    client: createStripeClient({
      secretKey: account.secretKey,
      ...(account.apiBaseUrl ? { apiBaseUrl: account.apiBaseUrl } : {}),
    }),
    webhookSecret: account.webhookSecret,
    close: async () => undefined,
  };
}
