import type { PgBoss } from 'pg-boss';
import { backoffDelayMs, MAX_ATTEMPTS } from '../../domain/backoff.ts';
import { channelAction } from '../../domain/calendar-channel.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import {
  recordSyncError,
  setConnectionStatus,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { CalendarProviderError } from '../../providers/calendar/provider.ts';
import type { bossDb } from '../boss.ts';
import { QUEUES } from '../job-queues.ts';
import { type CalendarDeps, nowOf } from './calendar-deps.ts';
import { openChannel } from './channels.ts';
import { loadCalendar, type SyncOutcome, syncCalendar } from './sync-calendar.ts';

// The calendar-sync queue: one job = sync one calendar. Its queue is `stately` with the calendar as
// the singleton key, so at most one sync per calendar waits while one runs (pushes coalesce).
// A provider failure that may pass (429, 5xx, network) re-sends the job after our backoff, or
// after the provider's Retry-After when it is longer; after MAX_ATTEMPTS the error is recorded on
// the calendar and the sweep's next poll starts over. A refused grant marks the connection
// `unauthorized` (the owner must reconnect). A synced calendar without a live channel gets one.

export type SyncReason = 'push' | 'poll' | 'connect' | 'retry' | 'selection';

export type SyncJob = {
  tenant_id: string;
  calendar_id: string;
  reason: SyncReason;
  full?: boolean;
  attempt?: number;
  correlation_id?: string;
};

/** Queues a sync of the calendar; false when one is already waiting (coalesced). */
export async function enqueueSync(
  boss: Pick<PgBoss, 'send'>,
  input: {
    tenantId: string;
    calendarId: string;
    reason: SyncReason;
    full?: boolean;
    attempt?: number;
    correlationId?: string;
    startAfterMs?: number;
    db?: ReturnType<typeof bossDb>;
  },
): Promise<boolean> {
  const job: SyncJob = {
    tenant_id: input.tenantId,
    calendar_id: input.calendarId,
    reason: input.reason,
    ...(input.full ? { full: true } : {}),
    ...(input.attempt ? { attempt: input.attempt } : {}),
    ...(input.correlationId ? { correlation_id: input.correlationId } : {}),
  };
  const id = await boss.send(QUEUES.calendarSync, job, {
    singletonKey: input.calendarId,
    ...(input.startAfterMs ? { startAfter: new Date(Date.now() + input.startAfterMs) } : {}),
    ...(input.db ? { db: input.db } : {}),
  });
  return id !== null;
}

export async function runSyncJob(deps: CalendarDeps, job: SyncJob): Promise<SyncOutcome | null> {
  const attempt = job.attempt ?? 0;
  try {
    const outcome = await syncCalendar(deps, {
      tenantId: job.tenant_id,
      calendarId: job.calendar_id,
      full: job.full === true,
      ...(job.correlation_id ? { correlationId: job.correlation_id } : {}),
    });
    if (outcome.kind === 'synced') {
      deps.logger.info({ calendar_id: job.calendar_id, reason: job.reason, ...outcome }, 'calendar synced');
      // Changes that only a poll found were announced by no push: the channel is dead on the
      // provider's side (stopped, lost), whatever its expiry says. A new one brings pushes back.
      const channelDead = job.reason === 'poll' && outcome.mode === 'incremental' && outcome.events > 0;
      await ensureChannel(deps, job.tenant_id, job.calendar_id, channelDead);
    }
    return outcome;
  } catch (err) {
    if (!(err instanceof CalendarProviderError)) throw err;
    if (err.kind === 'unauthorized') {
      const loaded = await loadCalendar(deps.db, job.tenant_id, job.calendar_id);
      if (loaded) await setConnectionStatus(deps.db, job.tenant_id, loaded.connection.id, 'unauthorized');
      await recordSyncError(
        deps.db,
        job.tenant_id,
        job.calendar_id,
        'the calendar account refused access; reconnect',
      );
      deps.logger.warn({ calendar_id: job.calendar_id }, 'calendar access refused; the owner must reconnect');
      return null;
    }
    await recordSyncError(deps.db, job.tenant_id, job.calendar_id, `${err.kind}: ${err.message}`);
    if (err.kind !== 'retryable' || attempt + 1 >= MAX_ATTEMPTS) {
      deps.logger.warn(
        { err, calendar_id: job.calendar_id, attempt },
        'calendar sync failed; the next poll retries',
      );
      return null;
    }
    const delay = Math.max(err.retryAfterMs ?? 0, backoffDelayMs(attempt, Math.random));
    await enqueueSync(deps.boss, {
      tenantId: job.tenant_id,
      calendarId: job.calendar_id,
      reason: 'retry',
      full: job.full === true,
      attempt: attempt + 1,
      startAfterMs: delay,
      ...(job.correlation_id ? { correlationId: job.correlation_id } : {}),
    });
    deps.logger.info(
      { calendar_id: job.calendar_id, attempt, delay_ms: delay },
      'calendar sync retried later',
    );
    return null;
  }
}

/** Opens a channel for a calendar that has none, whose channel expired, or (`replace`) whose channel is dead. */
export async function ensureChannel(
  deps: CalendarDeps,
  tenantId: string,
  calendarId: string,
  replace = false,
): Promise<void> {
  const loaded = await loadCalendar(deps.db, tenantId, calendarId);
  if (!loaded?.link.blocks_time) return;
  const policy = await loadPolicy(deps.db, tenantId);
  const action = channelAction(
    {
      channelExpiresAt: loaded.link.channel_expires_at ? Date.parse(loaded.link.channel_expires_at) : null,
      lastPushAt: null,
      lastSyncedAt: null,
    },
    nowOf(deps),
    {
      renewBeforeMs: policy['calendar.channel_renew_before_hours'] * 3_600_000,
      pollAfterMs: policy['calendar.poll_after_seconds'] * 1000,
    },
  );
  if (action !== 'open' && !replace) return;
  await openChannel(deps, loaded).catch((err: unknown) => {
    deps.logger.warn(
      { err, calendar_id: calendarId },
      'could not open a calendar channel; polling meanwhile',
    );
  });
}
