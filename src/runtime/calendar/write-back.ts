import type { PgBoss } from 'pg-boss';
import { backoffDelayMs, MAX_ATTEMPTS } from '../../domain/backoff.ts';
import { OUR_MARKER } from '../../domain/calendar-busy.ts';
import type { EventEnvelope } from '../../domain/event-catalog.ts';
import { inTransaction } from '../../persistence/db.ts';
import { getService } from '../../persistence/repositories/catalog.ts';
import { callersOf } from '../../persistence/repositories/conversations.ts';
import {
  type CalendarLink,
  findBookingLink,
  findConnection,
  findLink,
  setConnectionStatus,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import {
  findWrittenEvent,
  moveWrittenEvent,
  saveWrittenEvent,
} from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { findReservation } from '../../persistence/repositories/scheduling/holds.ts';
import type { Reservation } from '../../persistence/repositories/scheduling/reservation-rows.ts';
import {
  type CalendarProvider,
  CalendarProviderError,
  type OurEvent,
} from '../../providers/calendar/provider.ts';
import { QUEUES } from '../job-queues.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';
import { type CalendarDeps, providerOf } from './calendar-deps.ts';
import { openRefreshToken } from './token-vault.ts';

// Write-back: our appointments appear in the resource's booking calendar. The scheduling events
// (booked, rescheduled, cancelled; written with the change, src/runtime/scheduling) queue a
// calendar-write job; the job makes the calendar match the appointment as it is now, so a
// redelivered or late job is harmless. Decisions:
// - Never in the booking's way: the booking has committed before anything here runs; failures
//   retry with our backoff and end in the calendar-write dead-letter queue.
// - The event id is derived from the first appointment's id (Google accepts client ids in base32hex),
//   so an insert retried after a lost answer finds its event instead of writing a second one.
// - Our ids ride in `extendedProperties.private` (OUR_MARKER): sync knows the event as ours and does
//   not mirror it back as busy time.
// - A reschedule moves the record to the new appointment and patches the same event; a cancel
//   deletes it. A `booked` job for an appointment that is no longer live does nothing (the job of
//   the change that ended it does the rest).
// - Title: the service; description: the customer's name and number, and our ids.
// - Each calendar is written through its connection's provider. Jobber takes no client ids: the
//   id the provider answers is the one recorded (for Google it is the one we asked for).

export type WriteKind = 'booked' | 'rescheduled' | 'cancelled';
export type WriteJob = {
  tenant_id: string;
  kind: WriteKind;
  appointment_id: string;
  previous_id?: string;
  attempt?: number;
};

const KIND_OF: Record<string, WriteKind> = {
  'nmc.scheduling.AppointmentBooked': 'booked',
  'nmc.scheduling.AppointmentRescheduled': 'rescheduled',
  'nmc.scheduling.AppointmentCancelled': 'cancelled',
};

/** Google event ids are base32hex (0-9, a-v), 5 to 1024 characters; hex digits are a subset. */
export function eventIdFor(appointmentId: string): string {
  return `nmc${appointmentId.replace(/-/g, '').toLowerCase()}`;
}

export function calendarWriteSubscriber(deps: Pick<CalendarDeps, 'db' | 'boss'>): Subscriber {
  return {
    name: 'calendar.write-back',
    events: Object.keys(KIND_OF),
    async handle(event: EventEnvelope) {
      const kind = KIND_OF[event.event_name];
      const appointmentId = event.payload.appointment_id;
      const resourceId = event.payload.resource_id;
      if (!kind || typeof appointmentId !== 'string' || typeof resourceId !== 'string') return;
      const previousResource = event.payload.previous_resource_id;
      const written =
        typeof event.payload.previous_id === 'string'
          ? await findWrittenEvent(deps.db, event.tenant_id, event.payload.previous_id)
          : null;
      // Only resources with a booking calendar (or an event of ours to move or delete) need a job.
      const target =
        (await findBookingLink(deps.db, event.tenant_id, resourceId)) ??
        (typeof previousResource === 'string'
          ? await findBookingLink(deps.db, event.tenant_id, previousResource)
          : null);
      if (!target && !written && kind !== 'cancelled') return;
      if (kind === 'cancelled' && !(await findWrittenEvent(deps.db, event.tenant_id, appointmentId))) return;
      const job: WriteJob = {
        tenant_id: event.tenant_id,
        kind,
        appointment_id: appointmentId,
        ...(typeof event.payload.previous_id === 'string' ? { previous_id: event.payload.previous_id } : {}),
      };
      await deps.boss.send(QUEUES.calendarWrite, job);
    },
  };
}

async function describe(deps: CalendarDeps, tenantId: string, appointment: Reservation): Promise<OurEvent> {
  const service = await getService(deps.db, tenantId, appointment.service_id);
  const phone =
    appointment.customer_phone ??
    (appointment.conversation_id
      ? ((await callersOf(deps.db, tenantId, [appointment.conversation_id])).get(
          appointment.conversation_id,
        ) ?? null)
      : null);
  const lines = [
    `Customer: ${appointment.customer_name ?? 'name not given'}`,
    `Phone: ${phone ?? 'not known'}`,
    '',
    `Booked through NeverMissCall (appointment ${appointment.id}).`,
  ];
  return {
    summary: service?.name ?? 'Appointment',
    description: lines.join('\n'),
    start: appointment.start,
    end: appointment.end,
    marker: { [OUR_MARKER]: appointment.id, nmc_tenant_id: tenantId },
  };
}

type Grant = { token: string; provider: CalendarProvider };

async function grantFor(deps: CalendarDeps, link: CalendarLink): Promise<Grant | null> {
  const connection = await findConnection(deps.db, link.tenant_id, link.connection_id);
  if (connection?.status !== 'active') return null;
  return {
    token: openRefreshToken(deps.keyring, connection),
    provider: providerOf(deps, connection.provider),
  };
}

/** Makes the booking calendar show the appointment as it is now. */
export async function writeBack(
  deps: CalendarDeps,
  job: WriteJob,
): Promise<'written' | 'deleted' | 'nothing'> {
  const tenantId = job.tenant_id;
  if (job.kind === 'rescheduled' && job.previous_id) {
    await inTransaction(deps.db, (client) =>
      moveWrittenEvent(client, tenantId, job.previous_id ?? '', job.appointment_id),
    );
  }
  const appointment = await findReservation(deps.db, tenantId, job.appointment_id);
  if (appointment?.kind !== 'appointment') return 'nothing';
  const written = await findWrittenEvent(deps.db, tenantId, appointment.id);
  const writtenLink = written ? await findLink(deps.db, tenantId, written.calendar_id) : null;

  if (appointment.status !== 'live') {
    if (job.kind === 'booked') return 'nothing';
    if (written?.state !== 'written' || !writtenLink || !written.external_event_id) return 'nothing';
    const grant = await grantFor(deps, writtenLink);
    if (grant === null) return 'nothing';
    await grant.provider.deleteEvent(grant.token, writtenLink.external_id, written.external_event_id);
    await saveWrittenEvent(deps.db, {
      tenantId,
      appointmentId: appointment.id,
      calendarId: writtenLink.id,
      externalEventId: written.external_event_id,
      state: 'deleted',
    });
    return 'deleted';
  }

  const target = await findBookingLink(deps.db, tenantId, appointment.resource_id);
  // Moved to a resource whose bookings go elsewhere (or nowhere): the old event goes.
  if (
    written?.state === 'written' &&
    writtenLink &&
    written.external_event_id &&
    writtenLink.id !== target?.id
  ) {
    const grant = await grantFor(deps, writtenLink);
    if (grant !== null)
      await grant.provider.deleteEvent(grant.token, writtenLink.external_id, written.external_event_id);
    await saveWrittenEvent(deps.db, {
      tenantId,
      appointmentId: appointment.id,
      calendarId: writtenLink.id,
      externalEventId: written.external_event_id,
      state: 'deleted',
    });
  }
  if (!target) return 'nothing';
  const grant = await grantFor(deps, target);
  if (grant === null) return 'nothing';
  const event = await describe(deps, tenantId, appointment);
  const sameCalendar =
    written?.state === 'written' && written.calendar_id === target.id && written.external_event_id;
  const eventId = sameCalendar
    ? (written?.external_event_id ?? eventIdFor(appointment.id))
    : eventIdFor(appointment.id);
  let writtenId = eventId;
  if (sameCalendar) {
    try {
      await grant.provider.updateEvent(grant.token, target.external_id, eventId, event);
    } catch (err) {
      // The owner deleted our event by hand: write it again.
      if (!(err instanceof CalendarProviderError && (err.kind === 'not_found' || err.kind === 'gone')))
        throw err;
      writtenId = await insertOrUpdate(grant, target, eventIdFor(appointment.id), event);
    }
  } else {
    writtenId = await insertOrUpdate(grant, target, eventId, event);
  }
  await saveWrittenEvent(deps.db, {
    tenantId,
    appointmentId: appointment.id,
    calendarId: target.id,
    externalEventId: writtenId,
    state: 'written',
  });
  return 'written';
}

/** Writes the event; answers the provider's id of it. */
async function insertOrUpdate(
  grant: Grant,
  link: CalendarLink,
  eventId: string,
  event: OurEvent,
): Promise<string> {
  try {
    return (await grant.provider.insertEvent(grant.token, link.external_id, { ...event, id: eventId })).id;
  } catch (err) {
    // Inserted before (an answer lost, a job redelivered): bring it up to date instead.
    if (!(err instanceof CalendarProviderError && err.status === 409)) throw err;
    await grant.provider.updateEvent(grant.token, link.external_id, eventId, event);
    return eventId;
  }
}

/** The calendar-write job: write-back with our retry policy; a refused grant marks the connection. */
export async function runWriteJob(
  deps: CalendarDeps & { boss: Pick<PgBoss, 'send'> },
  job: WriteJob,
): Promise<void> {
  const attempt = job.attempt ?? 0;
  try {
    const result = await writeBack(deps, job);
    deps.logger.info({ appointment_id: job.appointment_id, kind: job.kind, result }, 'calendar write-back');
  } catch (err) {
    if (!(err instanceof CalendarProviderError)) throw err;
    if (err.kind === 'unauthorized') {
      const written = await findWrittenEvent(deps.db, job.tenant_id, job.appointment_id);
      const link = written ? await findLink(deps.db, job.tenant_id, written.calendar_id) : null;
      if (link) await setConnectionStatus(deps.db, job.tenant_id, link.connection_id, 'unauthorized');
    }
    if (err.kind !== 'retryable' || attempt + 1 >= MAX_ATTEMPTS) {
      deps.logger.warn({ err, appointment_id: job.appointment_id, attempt }, 'calendar write-back gave up');
      await deps.boss.send(QUEUES.calendarWriteDead, { ...job, error: `${err.kind}: ${err.message}` });
      return;
    }
    const delay = Math.max(err.retryAfterMs ?? 0, backoffDelayMs(attempt, Math.random));
    await deps.boss.send(
      QUEUES.calendarWrite,
      { ...job, attempt: attempt + 1 },
      {
        startAfter: new Date(Date.now() + delay),
      },
    );
  }
}
