import { type Config, ConfigError } from '../../config.ts';

// Which Stripe account the process talks to: the real one when STRIPE_SECRET_KEY is set (optionally
// at STRIPE_API_BASE_URL), else the local sandbox with fixed, obviously fake keys.

export const SANDBOX_STRIPE = {
  secretKey: 'sk_test_sandbox_not_a_secret',
  webhookSecret: 'whsec_sandbox_not_a_secret',
} as const;

export type StripeAccount = {
  secretKey: string;
  webhookSecret: string;
  apiBaseUrl?: string;
  sandbox: boolean;
};

export function stripeAccountFrom(config: Config): StripeAccount {
  const apiBaseUrl = config.STRIPE_API_BASE_URL ? { apiBaseUrl: config.STRIPE_API_BASE_URL } : {};
  if (config.STRIPE_SECRET_KEY) {
    // Without the signing secret no webhook could be verified: every subscription change would be lost.
    if (!config.STRIPE_WEBHOOK_SECRET) {
      throw new ConfigError(
        'invalid configuration: STRIPE_WEBHOOK_SECRET: set it together with STRIPE_SECRET_KEY',
      );
    }
    return {
      secretKey: config.STRIPE_SECRET_KEY,
      webhookSecret: config.STRIPE_WEBHOOK_SECRET,
      ...apiBaseUrl,
      sandbox: false,
    };
  }
  return {
    ...SANDBOX_STRIPE,
    ...(config.STRIPE_WEBHOOK_SECRET ? { webhookSecret: config.STRIPE_WEBHOOK_SECRET } : {}),
    ...apiBaseUrl,
    sandbox: true,
  };
}
