import type { Config } from '../../config.ts';

// Which Google OAuth client the process uses: the real one when GOOGLE_CLIENT_ID and
// GOOGLE_CLIENT_SECRET are set (Google's own endpoints unless GOOGLE_API_BASE_URL /
// GOOGLE_OAUTH_BASE_URL point elsewhere), else the local sandbox with fixed, obviously fake ones.

export const SANDBOX_GOOGLE = {
  clientId: 'sandbox-client.apps.googleusercontent.example',
  clientSecret: 'sandbox-client-secret-not-a-secret',
} as const;

export type GoogleAccount = {
  clientId: string;
  clientSecret: string;
  /** The Calendar API root (googleapis' rootUrl); unset means Google's. */
  apiBaseUrl?: string;
  /** Where Google's OAuth paths (/o/oauth2/v2/auth, /token, /revoke) live; unset means Google's. */
  oauthBaseUrl?: string;
  sandbox: boolean;
};

export function googleAccountFrom(config: Config): GoogleAccount {
  const urls = {
    ...(config.GOOGLE_API_BASE_URL ? { apiBaseUrl: config.GOOGLE_API_BASE_URL } : {}),
    ...(config.GOOGLE_OAUTH_BASE_URL ? { oauthBaseUrl: config.GOOGLE_OAUTH_BASE_URL } : {}),
  };
  if (config.GOOGLE_CLIENT_ID && config.GOOGLE_CLIENT_SECRET) {
    return {
      clientId: config.GOOGLE_CLIENT_ID,
      clientSecret: config.GOOGLE_CLIENT_SECRET,
      ...urls,
      sandbox: false,
    };
  }
  return { ...SANDBOX_GOOGLE, ...urls, sandbox: true };
}
