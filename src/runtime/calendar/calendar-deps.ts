import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../../domain/token-encryption.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Pool } from '../../persistence/db.ts';
import type { CalendarProvider } from '../../providers/calendar/provider.ts';

// What the calendar runtime needs, built once in src/system.ts and handed to the routes, the
// workers and the outbox subscriber alike.

export type CalendarDeps = {
  db: Pool;
  boss: Pick<PgBoss, 'send'>;
  provider: CalendarProvider;
  keyring: Keyring;
  /** Where providers reach us: the OAuth redirect and the push webhook are built from it. */
  publicBaseUrl: string;
  logger: Logger;
  now?: () => number;
};

export const calendarRedirectUri = (publicBaseUrl: string) =>
  `${publicBaseUrl}/api/v1/calendar/oauth/callback`;
export const calendarWebhookUrl = (publicBaseUrl: string) => `${publicBaseUrl}/webhooks/google/calendar`;

export const nowOf = (deps: Pick<CalendarDeps, 'now'>) => (deps.now ?? Date.now)();
