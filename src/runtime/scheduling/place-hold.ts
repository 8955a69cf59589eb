import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { computeAvailability } from '../../domain/availability.ts';
import { AppError } from '../../domain/errors.ts';
import { formatInstant } from '../../domain/instant.ts';
import { DAY_MS, MINUTE_MS } from '../../domain/wall-time.ts';
import type { Queryable } from '../../persistence/db.ts';
import {
  releaseExpiredOverlappingHolds,
  tryInsertReservation,
} from '../../persistence/repositories/scheduling/holds.ts';
import { type HoldView, holdView } from '../../persistence/repositories/scheduling/reservation-rows.ts';
import { lockResource } from '../../persistence/repositories/scheduling/resources.ts';
import { bossDb } from '../boss.ts';
import { QUEUES } from '../job-queues.ts';
import { activeService, instantParam, knownId } from './booking-input.ts';
import type { HoldExpiryJob } from './expire-hold.ts';
import { loadAvailabilityAt } from './find-availability.ts';
import { loadSchedulingSettings, type SchedulingSettings } from './scheduling-settings.ts';

// Placing a Hold, inside the caller's transaction (the client must be in one: the conflict path
// uses a savepoint). Decisions that must stay true:
// - Only a slot that availability offers can be held (business hours, exceptions, notice, horizon,
//   grid, buffers): anything else is AppError conflict, never a hold outside the rules.
// - The resource row is locked first, so writers of one resource take turns (no deadlocks inside the
//   exclusion check) and the availability read after the lock is current.
// - Expired live holds overlapping the slot are released in this same transaction before the insert:
//   an expired hold blocks nothing even if its expiry job never ran.
// - The exclusion constraint is the guarantee: a violation (23P01) is AppError conflict, and the
//   caller's transaction stays usable.
// - The expiry job is inserted with the hold (same transaction), to start at expires_at.

export type PlaceHoldInput = {
  tenantId: string;
  serviceId: string;
  resourceId: string;
  /** RFC 3339; must be a start that availability offers. */
  start: string;
  now: string;
  /** The hold's time to live; callers pass `settings.hold_ttl_minutes` (policy over HOLD_TTL_MINUTES). */
  holdTtlMinutes: number;
  conversationId?: string | null;
  boss: Pick<PgBoss, 'send'>;
  /** The tenant's scheduling settings when the caller has them; loaded otherwise. */
  settings?: SchedulingSettings;
  /** The hold's id; a new UUID by default. */
  id?: string;
};

export async function placeHold(client: Queryable, input: PlaceHoldInput): Promise<HoldView> {
  const { tenantId } = input;
  const startMs = instantParam('start', input.start);
  const nowMs = instantParam('now', input.now);
  if (!Number.isInteger(input.holdTtlMinutes) || input.holdTtlMinutes <= 0) {
    throw new RangeError('holdTtlMinutes must be a positive integer');
  }
  const service = await activeService(client, tenantId, input.serviceId);
  const resource = await lockResource(client, tenantId, knownId('resource', input.resourceId));
  if (resource === null) throw new AppError('not_found', 'resource not found');
  const settings =
    input.settings ??
    (await loadSchedulingSettings(client, tenantId, { holdTtlMinutes: input.holdTtlMinutes }));

  // Beyond the booking horizon nothing is offered. Deciding it before any arithmetic also keeps
  // start + duration inside the years an RFC 3339 instant can be written in (a start of
  // 9999-12-31T23:59Z would otherwise end in year 10000 and fail to parse: a 500).
  if (startMs > nowMs + settings.horizon_days * DAY_MS) {
    throw new AppError('conflict', 'that time cannot be booked');
  }
  const start = formatInstant(startMs);
  const end = formatInstant(startMs + service.duration_minutes * MINUTE_MS);
  const availability = await loadAvailabilityAt(client, {
    tenantId,
    durationMinutes: service.duration_minutes,
    resource,
    startMs,
    now: input.now,
    settings,
  });
  if (availability === null || computeAvailability(availability).length === 0) {
    // Told apart for the caller: outside the rules (hours, notice, grid…) or merely taken.
    const bookable = availability !== null && computeAvailability({ ...availability, busy: [] }).length > 0;
    throw bookable
      ? new AppError('conflict', 'that time is no longer available')
      : new AppError('conflict', 'that time cannot be booked');
  }

  await releaseExpiredOverlappingHolds(client, {
    tenantId,
    resourceId: resource.id,
    start,
    end,
    now: input.now,
  });
  const expiresAt = formatInstant(nowMs + input.holdTtlMinutes * MINUTE_MS);
  const hold = await tryInsertReservation(client, {
    tenantId,
    id: input.id ?? randomUUID(),
    resourceId: resource.id,
    serviceId: service.id,
    conversationId: input.conversationId ?? null,
    kind: 'hold',
    start,
    end,
    expiresAt,
    now: input.now,
  });
  if (hold === null) throw new AppError('conflict', 'that time is no longer available');

  const job: HoldExpiryJob = { tenant_id: tenantId, hold_id: hold.id };
  await input.boss.send(QUEUES.holdExpiry, job, { db: bossDb(client), startAfter: new Date(expiresAt) });
  return holdView(hold);
}
