import type { Config } from '../../config.ts';

// Which Twilio account the process talks to: the real one when credentials are set (optionally at
// TWILIO_API_BASE_URL), else the local sandbox with a fixed, obviously fake account.

export const SANDBOX_ACCOUNT = {
  accountSid: `AC${'0'.repeat(31)}1`,
  authToken: 'sandbox-auth-token-not-a-secret',
} as const;

export type TwilioAccount = { accountSid: string; authToken: string; apiBaseUrl?: string; sandbox: boolean };

export function twilioAccountFrom(config: Config): TwilioAccount {
  if (config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN) {
    return {
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      ...(config.TWILIO_API_BASE_URL ? { apiBaseUrl: config.TWILIO_API_BASE_URL } : {}),
      sandbox: false,
    };
  }
  return {
    ...SANDBOX_ACCOUNT,
    ...(config.TWILIO_API_BASE_URL ? { apiBaseUrl: config.TWILIO_API_BASE_URL } : {}),
    sandbox: true,
  };
}
