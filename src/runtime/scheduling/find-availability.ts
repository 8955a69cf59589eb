import { DateTime } from 'luxon';
import { type AvailabilityInput, computeAvailability, type Slot } from '../../domain/availability.ts';
import { AppError } from '../../domain/errors.ts';
import { formatInstant, parseInstant } from '../../domain/instant.ts';
import { DAY_MS, MINUTE_MS } from '../../domain/wall-time.ts';
import type { Queryable } from '../../persistence/db.ts';
import type { Service } from '../../persistence/repositories/catalog.ts';
import {
  getResource,
  listExceptionsAndBusy,
  listResources,
  type Resource,
} from '../../persistence/repositories/scheduling/resources.ts';
import { activeService, instantParam, knownId } from './booking-input.ts';
import type { SchedulingSettings } from './scheduling-settings.ts';

// Open timeslots for one Service Item: the I/O half of availability. It loads the service (active
// only), the resources, their dated exceptions and what keeps them busy, and hands everything to
// the pure computeAvailability (src/domain/availability.ts), which decides. Only the part of
// [from, to) that the notice and horizon rules leave open is read from the database.

export type FindAvailabilityInput = {
  tenantId: string;
  serviceId: string;
  resourceId?: string;
  from: string;
  to: string;
  now: string;
  settings: SchedulingSettings;
};

export type AvailabilityResult = { service: Service; resources: Resource[]; items: Slot[] };

export async function findAvailability(
  db: Queryable,
  input: FindAvailabilityInput,
): Promise<AvailabilityResult> {
  const from = instantParam('from', input.from);
  const to = instantParam('to', input.to);
  instantParam('now', input.now);
  if (to <= from) throw new AppError('validation_failed', 'to must be after from');

  const service = await activeService(db, input.tenantId, input.serviceId);
  let resources: Resource[];
  if (input.resourceId === undefined) {
    resources = await listResources(db, input.tenantId);
  } else {
    const resource = await getResource(db, input.tenantId, knownId('resource', input.resourceId));
    if (resource === null) throw new AppError('not_found', 'resource not found');
    resources = [resource];
  }

  const availability = await loadAvailabilityInput(db, {
    tenantId: input.tenantId,
    durationMinutes: service.duration_minutes,
    resources,
    from: input.from,
    to: input.to,
    now: input.now,
    settings: input.settings,
  });
  return { service, resources, items: availability === null ? [] : computeAvailability(availability) };
}

/**
 * Everything computeAvailability needs to offer slots of `resources` for a duration, starting in
 * [from, to): their hours, the exceptions and busy blocks around that window. Only the part of the
 * window that notice and horizon leave open is read; null when nothing of it is left.
 */
export async function loadAvailabilityInput(
  db: Queryable,
  q: {
    tenantId: string;
    durationMinutes: number;
    resources: readonly Resource[];
    from: string;
    to: string;
    now: string;
    settings: SchedulingSettings;
  },
): Promise<AvailabilityInput | null> {
  const { settings } = q;
  const now = parseInstant(q.now);
  const lower = Math.max(parseInstant(q.from), now + settings.min_notice_minutes * MINUTE_MS);
  const upper = Math.min(parseInstant(q.to), now + settings.horizon_days * DAY_MS);
  if (lower >= upper || q.resources.length === 0) return null;

  const ids = q.resources.map((r) => r.id);
  const bufferMs = settings.buffer_minutes * MINUTE_MS;
  const { exceptions, busy } = await listExceptionsAndBusy(
    db,
    q.tenantId,
    ids,
    // Local dates of any zone (UTC−12 … UTC+14) around the window, with a day to spare each side.
    { from: utcDate(lower - 2 * DAY_MS), to: utcDate(upper + 2 * DAY_MS) },
    {
      from: formatInstant(lower - bufferMs),
      to: formatInstant(upper + q.durationMinutes * MINUTE_MS + bufferMs),
      now: q.now,
    },
  );

  return {
    resources: q.resources.map((r) => ({
      id: r.id,
      time_zone: r.time_zone,
      weekly_hours: r.weekly_hours,
      exceptions: exceptions.filter((e) => e.resource_id === r.id),
    })),
    busy,
    duration_minutes: q.durationMinutes,
    from: q.from,
    to: q.to,
    now: q.now,
    settings,
  };
}

/**
 * The availability of exactly one start on one resource: the window [start, start + 1 ms) holds
 * one slot start at most, so `computeAvailability` of it is empty unless that start is open.
 */
export function loadAvailabilityAt(
  db: Queryable,
  q: {
    tenantId: string;
    durationMinutes: number;
    resource: Resource;
    startMs: number;
    now: string;
    settings: SchedulingSettings;
  },
): Promise<AvailabilityInput | null> {
  return loadAvailabilityInput(db, {
    tenantId: q.tenantId,
    durationMinutes: q.durationMinutes,
    resources: [q.resource],
    from: formatInstant(q.startMs),
    to: formatInstant(q.startMs + 1),
    now: q.now,
    settings: q.settings,
  });
}

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export type OpenTimes = {
  /** Open slots from `now` over the horizon (notice, hours, exceptions, what is booked). */
  open: Slot[];
  /** Local dates (the business's zone) on which any resource opens at all, booked or not. */
  openDates: Set<string>;
};

/**
 * The open times of a service over the whole horizon, and the days the business opens at all, for
 * the booking dialogue's search (src/domain/slot-search.ts). `ignoreReservationId` leaves one live
 * reservation out of what is busy: the appointment being moved does not block its own new time.
 */
export async function findOpenTimes(
  db: Queryable,
  input: {
    tenantId: string;
    serviceId: string;
    now: string;
    timeZone: string;
    settings: SchedulingSettings;
    ignoreReservation?: { resource_id: string; start: string; end: string } | null;
    /** The service when the caller already holds it, active (else it is read). */
    service?: Service | undefined;
  },
): Promise<OpenTimes> {
  const { settings } = input;
  const service = input.service ?? (await activeService(db, input.tenantId, input.serviceId));
  const resources = await listResources(db, input.tenantId);
  const nowMs = instantParam('now', input.now);
  const to = formatInstant(nowMs + settings.horizon_days * DAY_MS);
  const availability = await loadAvailabilityInput(db, {
    tenantId: input.tenantId,
    durationMinutes: service.duration_minutes,
    resources,
    from: input.now,
    to,
    now: input.now,
    settings,
  });
  if (availability === null) return { open: [], openDates: new Set() };
  const ignored = input.ignoreReservation;
  const busy = ignored
    ? availability.busy.filter(
        (b) =>
          !(
            b.resource_id === ignored.resource_id &&
            Date.parse(b.start) === Date.parse(ignored.start) &&
            Date.parse(b.end) === Date.parse(ignored.end)
          ),
      )
    : availability.busy;
  const open = computeAvailability({ ...availability, busy });
  // Whether a day opens at all: its hours and exceptions alone, from the start of today (so a day
  // whose hours are over, or within the notice, still counts as a day the business opens).
  const dayStart = DateTime.fromMillis(nowMs, { zone: input.timeZone }).startOf('day').toMillis();
  const hoursOnly = computeAvailability({
    ...availability,
    busy: [],
    from: formatInstant(dayStart),
    now: formatInstant(dayStart),
    settings: { ...settings, min_notice_minutes: 0, allow_same_day: true },
  });
  const openDates = new Set(
    hoursOnly.map((slot) => DateTime.fromISO(slot.start, { zone: input.timeZone }).toISODate() ?? ''),
  );
  return { open, openDates };
}
