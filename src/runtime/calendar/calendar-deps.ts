import type { PgBoss } from 'pg-boss';
import { AppError } from '../../domain/errors.ts';
import type { Keyring } from '../../domain/token-encryption.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Pool } from '../../persistence/db.ts';
import type { CalendarProvider } from '../../providers/calendar/provider.ts';
import { storeRotatedToken } from './token-vault.ts';

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

const storingRotations = new WeakSet<CalendarProvider>();

/**
 * The provider a connection (or a connect request) speaks to; 503 when that one is not configured.
 * A provider that may rotate refresh tokens gets, once, a listener that stores each successor sealed.
 */
export function providerOf(
  deps: Pick<CalendarDeps, 'provider' | 'jobber' | 'db' | 'keyring' | 'logger'>,
  kind: ProviderKind,
): CalendarProvider {
  const provider = kind === 'google' ? deps.provider : deps.jobber?.provider;
  if (!provider) {
    throw new AppError(
      'unavailable',
      `${kind === 'google' ? 'Google Calendar' : 'Jobber'} is not configured here`,
    );
  }
  if (provider.onRefreshTokenRotated && !storingRotations.has(provider)) {
    storingRotations.add(provider);
    provider.onRefreshTokenRotated(async (previous, next) => {
      const stored = await storeRotatedToken(deps.db, deps.keyring, kind, previous, next);
      deps.logger.info({ provider: kind, connections: stored }, 'rotated calendar refresh token stored');
    });
  }
  return provider;
}

export const calendarRedirectUri = (publicBaseUrl: string) =>
  `${publicBaseUrl}/api/v1/calendar/oauth/callback`;
export const calendarWebhookUrl = (publicBaseUrl: string) => `${publicBaseUrl}/webhooks/google/calendar`;
export const jobberWebhookUrl = (publicBaseUrl: string) => `${publicBaseUrl}/webhooks/jobber`;

export const nowOf = (deps: Pick<CalendarDeps, 'now'>) => (deps.now ?? Date.now)();
