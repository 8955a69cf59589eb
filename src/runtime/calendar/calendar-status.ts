import { syncMode } from '../../domain/calendar-channel.ts';
import type { Queryable } from '../../persistence/db.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import {
  type CalendarConnection,
  type CalendarLink,
  listConnections,
  listLinks,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { countMirror } from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { channelPolicyOf, channelStateOf } from './sweep.ts';

// What `nmc calendars status` and the calendar routes show: every connection of a tenant, its
// calendars, their channel's expiry, last sync and lag, whether pushes or polling keep them fresh,
// and how many busy blocks their mirror holds.

export type CalendarView = {
  id: string;
  external_id: string;
  summary: string;
  time_zone: string;
  blocks_time: boolean;
  receives_bookings: boolean;
  mode: 'push' | 'poll' | 'off';
  last_synced_at: string | null;
  last_full_sync_at: string | null;
  lag_seconds: number | null;
  last_push_at: string | null;
  channel_expires_at: string | null;
  sync_error: string | null;
  mirrored_blocks: number;
};

export type ConnectionView = {
  id: string;
  resource_id: string;
  provider: 'google' | 'jobber';
  account: string;
  status: 'active' | 'unauthorized';
  connected_at: string;
  calendars: CalendarView[];
};

export async function calendarViews(
  db: Queryable,
  tenantId: string,
  links: CalendarLink[],
  now: number,
): Promise<CalendarView[]> {
  const policy = channelPolicyOf(await loadPolicy(db, tenantId));
  const views: CalendarView[] = [];
  for (const link of links) {
    const state = channelStateOf(link);
    views.push({
      id: link.id,
      external_id: link.external_id,
      summary: link.summary,
      time_zone: link.time_zone,
      blocks_time: link.blocks_time,
      receives_bookings: link.receives_bookings,
      mode: link.blocks_time ? syncMode(state, now, policy) : 'off',
      last_synced_at: link.last_synced_at,
      last_full_sync_at: link.last_full_sync_at,
      lag_seconds:
        state.lastSyncedAt === null ? null : Math.max(0, Math.round((now - state.lastSyncedAt) / 1000)),
      last_push_at: link.last_push_at,
      channel_expires_at: link.channel_expires_at,
      sync_error: link.sync_error,
      mirrored_blocks: await countMirror(db, tenantId, link.id),
    });
  }
  return views;
}

export async function connectionView(
  db: Queryable,
  connection: CalendarConnection,
  now: number,
): Promise<ConnectionView> {
  const links = await listLinks(db, connection.tenant_id, connection.id);
  return {
    id: connection.id,
    resource_id: connection.resource_id,
    provider: connection.provider,
    account: connection.account,
    status: connection.status,
    connected_at: connection.created_at,
    calendars: await calendarViews(db, connection.tenant_id, links, now),
  };
}

export async function calendarStatus(
  db: Queryable,
  tenantId: string,
  now: number,
): Promise<ConnectionView[]> {
  const views: ConnectionView[] = [];
  for (const connection of await listConnections(db, tenantId))
    views.push(await connectionView(db, connection, now));
  return views;
}
