import type { Config } from '../../config.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CalendarProvider } from '../calendar/provider.ts';
import { jobberAccountFrom } from './account.ts';
import { createJobberCalendarProvider } from './calendar-provider.ts';
import type { JobberSandbox } from './sandbox/server.ts';

// Jobber for the process: the real app when JOBBER_CLIENT_ID/SECRET are set, else (outside
// production only) the sandbox on a loopback port of its own, unless JOBBER_API_BASE_URL points
// elsewhere. In production without credentials there is no Jobber: connecting to it answers 503.
// The client secret also checks the webhooks' signatures.

export type OpenedJobber = {
  provider: CalendarProvider | null;
  clientSecret: string;
  sandbox?: JobberSandbox;
  close(): Promise<void>;
};

export async function openJobber(config: Config, logger: Logger): Promise<OpenedJobber> {
  const account = jobberAccountFrom(config);
  const none = async () => undefined;
  if (!account.sandbox)
    return {
      provider: createJobberCalendarProvider(account),
      clientSecret: account.clientSecret,
      close: none,
    };
  if (config.NODE_ENV === 'production')
    return { provider: null, clientSecret: account.clientSecret, close: none };
  if (account.apiBaseUrl)
    return {
      provider: createJobberCalendarProvider(account),
      clientSecret: account.clientSecret,
      close: none,
    };
  // Loaded only when used: a system on a real Jobber app never carries the sandbox's code.
  const { startJobberSandbox } = await import('./sandbox/server.ts');
  const sandbox = await startJobberSandbox({
    clientId: account.clientId,
    clientSecret: account.clientSecret,
    webhookUrl: `${config.PUBLIC_BASE_URL}/webhooks/jobber`,
    logger,
  });
  return {
    provider: createJobberCalendarProvider({ ...account, apiBaseUrl: sandbox.url }),
    clientSecret: account.clientSecret,
    sandbox,
    close: () => sandbox.close(),
  };
}
