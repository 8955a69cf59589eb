import { type ChannelPolicy, channelAction, shouldPoll } from '../../domain/calendar-channel.ts';
import type { Policy } from '../../domain/policy.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import {
  type CalendarLink,
  findConnection,
  listBlockingLinks,
  purgeExpiredOAuthStates,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { type CalendarDeps, nowOf } from './calendar-deps.ts';
import { openChannel } from './channels.ts';
import { enqueueSync } from './sync-jobs.ts';

// The calendar sweep (every minute, once across all processes): renews push channels before they
// expire and opens one where none is live, polls the calendars whose pushes went quiet (webhook
// first, poll on provider failure), and drops expired OAuth states. Each calendar on its own: one
// failing account does not hold up the others.

export function channelPolicyOf(policy: Policy): ChannelPolicy {
  return {
    renewBeforeMs: policy['calendar.channel_renew_before_hours'] * 3_600_000,
    pollAfterMs: policy['calendar.poll_after_seconds'] * 1000,
  };
}

export function channelStateOf(link: CalendarLink) {
  const ms = (v: string | null) => (v === null ? null : Date.parse(v));
  return {
    channelExpiresAt: ms(link.channel_expires_at),
    lastPushAt: ms(link.last_push_at),
    lastSyncedAt: ms(link.last_synced_at),
  };
}

export type SweepResult = { calendars: number; channels: number; polled: number; failed: number };

export async function sweepCalendars(
  deps: CalendarDeps,
  tenantId: string | null = null,
): Promise<SweepResult> {
  const result: SweepResult = { calendars: 0, channels: 0, polled: 0, failed: 0 };
  const policies = new Map<string, ChannelPolicy>();
  for (const link of await listBlockingLinks(deps.db, tenantId)) {
    result.calendars += 1;
    let policy = policies.get(link.tenant_id);
    if (!policy) {
      policy = channelPolicyOf(await loadPolicy(deps.db, link.tenant_id));
      policies.set(link.tenant_id, policy);
    }
    const now = nowOf(deps);
    const state = channelStateOf(link);
    try {
      if (channelAction(state, now, policy) !== 'keep') {
        const connection = await findConnection(deps.db, link.tenant_id, link.connection_id);
        if (connection) {
          await openChannel(deps, { link, connection });
          result.channels += 1;
        }
      }
    } catch (err) {
      result.failed += 1;
      deps.logger.warn({ err, calendar_id: link.id }, 'calendar channel renewal failed; polling meanwhile');
    }
    if (shouldPoll(state, now, policy)) {
      await enqueueSync(deps.boss, { tenantId: link.tenant_id, calendarId: link.id, reason: 'poll' });
      result.polled += 1;
    }
  }
  await purgeExpiredOAuthStates(deps.db);
  return result;
}
