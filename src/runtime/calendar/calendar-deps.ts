import type { PgBoss } from 'pg-boss';
import { AppError } from '../../domain/errors.ts';
import type { Keyring } from '../../domain/token-encryption.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Pool } from '../../persistence/db.ts';
import type { CalendarProvider } from '../../providers/calendar/provider.ts';

// What the calendar runtime needs, built once in src/system.ts and handed to the routes, the
// workers and the outbox subscriber alike.

export type CalendarDeps = {
  db: Pool;
  boss: Pick<PgBoss, 'send'>;
  /** Google Calendar's provider (connections whose provider is `google`), when configured. */
  provider?: CalendarProvider;
  /** Jobber, when configured: its provider and the app's client secret (it signs the webhooks). */
  jobber?: { provider: CalendarProvider; clientSecret: string };
  keyring: Keyring;
  /** Where providers reach us: the OAuth redirect and the push webhook are built from it. */
  publicBaseUrl: string;
  logger: Logger;
  now?: () => number;
};

export type ProviderKind = 'google' | 'jobber';

/** The provider a connection (or a connect request) speaks to; 503 when that one is not configured. */
export function providerOf(
  deps: Pick<CalendarDeps, 'provider' | 'jobber'>,
  kind: ProviderKind,
): CalendarProvider {
  if (kind === 'google') {
    if (!deps.provider) throw new AppError('unavailable', 'Google Calendar is not configured here');
    return deps.provider;
  }
  if (!deps.jobber) throw new AppError('unavailable', 'Jobber is not configured here');
  return deps.jobber.provider;
}

export const calendarRedirectUri = (publicBaseUrl: string) =>
  `${publicBaseUrl}/api/v1/calendar/oauth/callback`;
export const calendarWebhookUrl = (publicBaseUrl: string) => `${publicBaseUrl}/webhooks/google/calendar`;
export const jobberWebhookUrl = (publicBaseUrl: string) => `${publicBaseUrl}/webhooks/jobber`;

export const nowOf = (deps: Pick<CalendarDeps, 'now'>) => (deps.now ?? Date.now)();
