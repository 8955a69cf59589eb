import { channelAction } from '../../domain/calendar-channel.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { listBlockingLinks } from '../../persistence/repositories/scheduling/calendar-connections.ts';
import type { DriftCheck, DriftFinding } from '../provisioning/reconcile.ts';
import { type CalendarDeps, nowOf } from './calendar-deps.ts';
import { openChannel } from './channels.ts';
import { reconcileCalendar } from './reconcile-calendar.ts';
import { channelPolicyOf } from './sweep.ts';
import { loadCalendar } from './sync-calendar.ts';

// The calendars' part of reconciliation's drift report (src/runtime/provisioning/reconcile.ts,
// passed as one of its `extraChecks`): per calendar that blocks a resource's time,
// - `calendar_channel`: no live push channel (the sweep would open one; repair opens it now);
// - `calendar_mirror`: the mirror differs from a fresh listing of the next `days` days (missing,
//   extra or moved busy blocks; repair makes it match).
// Both repairs are safe: they only bring our copy in line with the owner's calendar.

export const CALENDAR_DRIFT_KINDS = ['calendar_channel', 'calendar_mirror'] as const;

export function calendarDriftCheck(deps: CalendarDeps, options: { days?: number } = {}): DriftCheck {
  return {
    kinds: CALENDAR_DRIFT_KINDS,
    async scan(ctx) {
      const findings: DriftFinding[] = [];
      const policy = await loadPolicy(deps.db, ctx.tenantId);
      const days = options.days ?? policy['calendar.horizon_days'];
      for (const link of await listBlockingLinks(deps.db, ctx.tenantId)) {
        const expires = link.channel_expires_at === null ? null : Date.parse(link.channel_expires_at);
        const state = { channelExpiresAt: expires, lastPushAt: null, lastSyncedAt: null };
        if (channelAction(state, nowOf(deps), channelPolicyOf(policy)) === 'open') {
          findings.push({
            kind: 'calendar_channel',
            subject: link.id,
            expected: { channel: 'live' },
            actual: { channel_expires_at: link.channel_expires_at },
            safe: true,
            repair: async () => {
              const loaded = await loadCalendar(deps.db, ctx.tenantId, link.id);
              if (loaded) await openChannel(deps, loaded);
            },
          });
        }
        const compared = await reconcileCalendar(deps, {
          tenantId: ctx.tenantId,
          calendarId: link.id,
          days,
          repair: false,
        });
        if (compared && sum(compared.drift) > 0) {
          findings.push({
            kind: 'calendar_mirror',
            subject: link.id,
            expected: { busy_blocks: compared.listed, window: compared.window },
            actual: { busy_blocks: compared.mirrored, drift: compared.drift },
            safe: true,
            repair: async () => {
              await reconcileCalendar(deps, {
                tenantId: ctx.tenantId,
                calendarId: link.id,
                days,
                repair: true,
              });
            },
          });
        }
      }
      return findings;
    },
  };
}

function sum(drift: { missing: number; extra: number; moved: number }): number {
  return drift.missing + drift.extra + drift.moved;
}
