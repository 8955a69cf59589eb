import type { Config } from '../../config.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CalendarProvider } from '../calendar/provider.ts';
import { googleAccountFrom } from './account.ts';
import { createGoogleCalendarProvider } from './calendar-provider.ts';
import type { GoogleSandbox } from './sandbox/server.ts';

// Google Calendar for the process: the real OAuth client when GOOGLE_CLIENT_ID/SECRET are set,
// else (outside production only) the sandbox on a loopback port of its own, unless
// GOOGLE_API_BASE_URL points elsewhere. In production without credentials there is no calendar
// provider: the calendar routes answer 503 and nothing syncs.

export type OpenedGoogle = {
  provider: CalendarProvider | null;
  sandbox?: GoogleSandbox;
  close(): Promise<void>;
};

export async function openGoogle(config: Config, logger: Logger, timeZone?: string): Promise<OpenedGoogle> {
  const account = googleAccountFrom(config);
  if (!account.sandbox)
    return { provider: createGoogleCalendarProvider(account), close: async () => undefined };
  if (config.NODE_ENV === 'production') return { provider: null, close: async () => undefined };
  if (account.apiBaseUrl)
    return { provider: createGoogleCalendarProvider(account), close: async () => undefined };
  // Loaded only when used: a system on a real account never carries the sandbox's code.
  const { startGoogleSandbox } = await import('./sandbox/server.ts');
  const sandbox = await startGoogleSandbox({
    clientId: account.clientId,
    clientSecret: account.clientSecret,
    ...(timeZone ? { timeZone } : {}),
    logger,
  });
  return {
    provider: createGoogleCalendarProvider({
      ...account,
      apiBaseUrl: sandbox.url,
      oauthBaseUrl: sandbox.oauthBaseUrl,
    }),
    sandbox,
    close: () => sandbox.close(),
  };
}
