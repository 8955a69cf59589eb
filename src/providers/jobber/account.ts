import type { Config } from '../../config.ts';

// Which Jobber app the process uses: the real one when JOBBER_CLIENT_ID and JOBBER_CLIENT_SECRET
// are set (Jobber's own API unless JOBBER_API_BASE_URL points elsewhere), else the local sandbox
// with fixed, obviously fake credentials.

export const SANDBOX_JOBBER = {
  clientId: 'sandbox-jobber-client',
  clientSecret: 'sandbox-jobber-secret-not-a-secret',
} as const;

export const JOBBER_API_BASE_URL = 'https://api.getjobber.com';
/** The GraphQL schema version our queries are written against (X-JOBBER-GRAPHQL-VERSION). */
export const JOBBER_GRAPHQL_VERSION = '2025-04-16';

export type JobberAccount = {
  clientId: string;
  clientSecret: string;
  /** Where /api/oauth/authorize, /api/oauth/token and /api/graphql live; unset means Jobber's. */
  apiBaseUrl?: string;
  sandbox: boolean;
};

export function jobberAccountFrom(config: Config): JobberAccount {
  const urls = config.JOBBER_API_BASE_URL ? { apiBaseUrl: config.JOBBER_API_BASE_URL } : {};
  if (config.JOBBER_CLIENT_ID && config.JOBBER_CLIENT_SECRET) {
    return {
      clientId: config.JOBBER_CLIENT_ID,
      clientSecret: config.JOBBER_CLIENT_SECRET,
      ...urls,
      sandbox: false,
    };
  }
  return { ...SANDBOX_JOBBER, ...urls, sandbox: true };
}
