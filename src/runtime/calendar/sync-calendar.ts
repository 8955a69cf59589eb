import { busyChanges } from '../../domain/calendar-busy.ts';
import { overlapping } from '../../domain/calendar-mirror.ts';
import { inTransaction, type Queryable } from '../../persistence/db.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import {
  type CalendarConnection,
  type CalendarLink,
  findConnection,
  findLink,
  lockLink,
  recordSync,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import {
  deleteMirrorBlocks,
  insertConflict,
  listMirror,
  liveAppointmentsBetween,
  type MirrorBlock,
  upsertMirrorBlocks,
} from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { CalendarProviderError, type EventListing } from '../../providers/calendar/provider.ts';
import { writeOutboxEvents } from '../outbox.ts';
import { type CalendarDeps, nowOf, providerOf } from './calendar-deps.ts';
import { openRefreshToken } from './token-vault.ts';

// Mirroring one calendar's busy time into sched_external_busy. Decisions:
// - Incremental by the stored sync token when there is one; otherwise (first sync, backfill, or a
//   410 Gone answer to the token) a full listing of [now − 1 day, now + horizon) that replaces the
//   calendar's mirror within that window. A 410 clears the token and resyncs in full in the same run.
// - The provider is asked outside any transaction; the mirror, the new sync token and any conflicts
//   are written in one transaction under the calendar's row lock, so a half-applied listing never
//   shows and two syncs of one calendar apply one after the other.
// - A busy block that is new or moved and overlaps a live appointment is a conflict: recorded once
//   per (appointment, event), and, when the appointment came from a conversation, an
//   OperatorAttentionNeeded `calendar_conflict` on it (alerts reach people from there). Nothing is
//   cancelled: a person decides.

export type SyncOutcome =
  | { kind: 'skipped'; reason: 'unknown' | 'not_blocking' | 'not_connected' }
  | {
      kind: 'synced';
      mode: 'full' | 'incremental';
      /** True when a sync token was refused (410) and the calendar was listed in full instead. */
      resynced: boolean;
      events: number;
      busy: number;
      freed: number;
      conflicts: number;
      pages: number;
    };

const DAY_MS = 86_400_000;

export type SyncRequest = {
  tenantId: string;
  calendarId: string;
  full?: boolean;
  /** Days ahead a full listing covers; the `calendar.horizon_days` policy by default. */
  days?: number;
  correlationId?: string;
};

export async function loadCalendar(
  db: Queryable,
  tenantId: string,
  calendarId: string,
): Promise<{ link: CalendarLink; connection: CalendarConnection } | null> {
  const link = await findLink(db, tenantId, calendarId);
  if (!link) return null;
  const connection = await findConnection(db, tenantId, link.connection_id);
  return connection ? { link, connection } : null;
}

export async function syncCalendar(deps: CalendarDeps, request: SyncRequest): Promise<SyncOutcome> {
  const { tenantId, calendarId } = request;
  const loaded = await loadCalendar(deps.db, tenantId, calendarId);
  if (!loaded) return { kind: 'skipped', reason: 'unknown' };
  const { link, connection } = loaded;
  if (!link.blocks_time) return { kind: 'skipped', reason: 'not_blocking' };
  if (connection.status !== 'active') return { kind: 'skipped', reason: 'not_connected' };
  const refreshToken = openRefreshToken(deps.keyring, connection);
  const provider = providerOf(deps, connection.provider);
  const policy = await loadPolicy(deps.db, tenantId);
  const now = nowOf(deps);

  let listing: EventListing | null = null;
  let full = request.full === true || link.sync_token === null;
  let resynced = false;
  if (!full && link.sync_token !== null) {
    try {
      listing = await provider.listEvents(refreshToken, link.external_id, {
        mode: 'incremental',
        syncToken: link.sync_token,
      });
    } catch (err) {
      if (!(err instanceof CalendarProviderError && err.kind === 'gone')) throw err;
      deps.logger.info({ calendar_id: calendarId }, 'calendar sync token refused (410); listing in full');
      full = true;
      resynced = true;
    }
  }
  // The window a full listing covers; it is the whole truth for that window only.
  const window = { from: now - DAY_MS, to: now + (request.days ?? policy['calendar.horizon_days']) * DAY_MS };
  if (listing === null) {
    listing = await provider.listEvents(refreshToken, link.external_id, {
      mode: 'full',
      timeMin: new Date(window.from).toISOString(),
      timeMax: new Date(window.to).toISOString(),
    });
  }
  const result = listing;
  const changes = busyChanges(result.events, result.timeZone ?? link.time_zone);
  const busy: MirrorBlock[] = [];
  const free: string[] = [];
  for (const change of changes) {
    if (change.kind === 'busy') busy.push({ eventId: change.eventId, start: change.start, end: change.end });
    else free.push(change.eventId);
  }

  const conflicts = await inTransaction(deps.db, async (client) => {
    const locked = await lockLink(client, tenantId, calendarId);
    if (!locked) return 0;
    let freed = free;
    if (full) {
      // The listing is the whole truth for its window: a mirrored block in the window that it does
      // not list goes. Blocks beyond the window stay (a shorter backfill must not drop busy time
      // further ahead); ended ones are purged nightly.
      const listed = new Set(busy.map((b) => b.eventId));
      freed = (await listMirror(client, tenantId, calendarId))
        .filter((b) => b.end > window.from && b.start < window.to && !listed.has(b.eventId))
        .map((b) => b.eventId);
    }
    await deleteMirrorBlocks(client, tenantId, calendarId, freed);
    const news = new Set(
      await upsertMirrorBlocks(client, {
        tenantId,
        resourceId: link.resource_id,
        calendarId,
        source: connection.provider,
        blocks: busy,
      }),
    );
    const found = await recordConflicts(client, {
      tenantId,
      link,
      blocks: busy.filter((b) => news.has(b.eventId)),
      now,
      correlationId: request.correlationId ?? `calendar-sync:${calendarId}`,
    });
    await recordSync(client, {
      tenantId,
      id: calendarId,
      syncToken: result.nextSyncToken,
      at: new Date(now).toISOString(),
      full,
    });
    return found;
  });
  return {
    kind: 'synced',
    mode: full ? 'full' : 'incremental',
    resynced,
    events: result.events.length,
    busy: busy.length,
    freed: free.length,
    conflicts,
    pages: result.pages,
  };
}

async function recordConflicts(
  client: Queryable,
  input: { tenantId: string; link: CalendarLink; blocks: MirrorBlock[]; now: number; correlationId: string },
): Promise<number> {
  const ahead = input.blocks.filter((b) => b.end > input.now);
  if (ahead.length === 0) return 0;
  const from = Math.min(...ahead.map((b) => b.start));
  const to = Math.max(...ahead.map((b) => b.end));
  const appointments = await liveAppointmentsBetween(
    client,
    input.tenantId,
    input.link.resource_id,
    from,
    to,
  );
  let count = 0;
  for (const { appointment, block } of overlapping(appointments, ahead)) {
    const conflict = await insertConflict(client, {
      tenantId: input.tenantId,
      appointmentId: appointment.id,
      calendarId: input.link.id,
      eventId: block.eventId,
      appointment,
      busy: block,
    });
    if (!conflict) continue;
    count += 1;
    const conversationId = appointments.find((a) => a.id === appointment.id)?.conversation_id ?? null;
    if (conversationId !== null) {
      await writeOutboxEvents(client, [
        {
          tenantId: input.tenantId,
          name: 'nmc.conversation.OperatorAttentionNeeded',
          payload: { conversation_id: conversationId, reason: 'calendar_conflict' },
          occurredAt: new Date(input.now).toISOString(),
          correlationId: input.correlationId,
          causationId: conflict.id,
        },
      ]);
    }
  }
  return count;
}
