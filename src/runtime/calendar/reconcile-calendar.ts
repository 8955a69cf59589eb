import { busyChanges } from '../../domain/calendar-busy.ts';
import { type Block, compareMirror, driftCount, type MirrorDrift } from '../../domain/calendar-mirror.ts';
import { inTransaction } from '../../persistence/db.ts';
import { lockLink } from '../../persistence/repositories/scheduling/calendar-connections.ts';
import {
  deleteMirrorBlocks,
  listMirror,
  upsertMirrorBlocks,
} from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { type CalendarDeps, nowOf, providerOf } from './calendar-deps.ts';
import { loadCalendar } from './sync-calendar.ts';
import { openRefreshToken } from './token-vault.ts';

// Reconciliation: a calendar's mirror against a fresh full listing of the next N days. Reports the
// drift (busy blocks missing from the mirror, blocks the provider no longer has, blocks at other
// times) and, with `repair`, makes the mirror match within the window. Sync tokens are left alone:
// the next incremental sync goes on from where it was.

export type Reconciliation = {
  calendar_id: string;
  window: { from: string; to: string };
  mirrored: number;
  listed: number;
  drift: { missing: number; extra: number; moved: number };
  repaired: boolean;
};

const DAY_MS = 86_400_000;

export async function reconcileCalendar(
  deps: CalendarDeps,
  input: { tenantId: string; calendarId: string; days: number; repair: boolean },
): Promise<Reconciliation | null> {
  const loaded = await loadCalendar(deps.db, input.tenantId, input.calendarId);
  if (!loaded?.link.blocks_time || loaded.connection.status !== 'active') return null;
  const { link, connection } = loaded;
  const from = nowOf(deps);
  const to = from + input.days * DAY_MS;
  const listing = await providerOf(deps, connection.provider).listEvents(
    openRefreshToken(deps.keyring, connection),
    link.external_id,
    {
      mode: 'full',
      timeMin: new Date(from).toISOString(),
      timeMax: new Date(to).toISOString(),
    },
  );
  const fresh: Block[] = [];
  for (const change of busyChanges(listing.events, listing.timeZone ?? link.time_zone)) {
    if (change.kind === 'busy' && change.end > from && change.start < to) fresh.push(change);
  }
  const inWindow = (b: Block) => b.end > from && b.start < to;
  let drift: MirrorDrift = { missing: [], extra: [], moved: [] };
  let mirrored = 0;
  await inTransaction(deps.db, async (client) => {
    if (!(await lockLink(client, input.tenantId, input.calendarId))) return;
    const mirror = (await listMirror(client, input.tenantId, input.calendarId)).filter(inWindow);
    mirrored = mirror.length;
    drift = compareMirror(mirror, fresh);
    if (!input.repair || driftCount(drift) === 0) return;
    await deleteMirrorBlocks(
      client,
      input.tenantId,
      input.calendarId,
      drift.extra.map((b) => b.eventId),
    );
    await upsertMirrorBlocks(client, {
      tenantId: input.tenantId,
      resourceId: link.resource_id,
      calendarId: link.id,
      source: connection.provider,
      blocks: [...drift.missing, ...drift.moved],
    });
  });
  const result: Reconciliation = {
    calendar_id: link.id,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    mirrored,
    listed: fresh.length,
    drift: { missing: drift.missing.length, extra: drift.extra.length, moved: drift.moved.length },
    repaired: input.repair && driftCount(drift) > 0,
  };
  if (driftCount(drift) > 0) deps.logger.warn({ ...result }, 'calendar mirror drift found');
  return result;
}
