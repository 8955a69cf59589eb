import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Queryable } from '../persistence/db.ts';
import { listServices } from '../persistence/repositories/catalog.ts';
import { callersOf } from '../persistence/repositories/conversations.ts';
import { openConflictsOf } from '../persistence/repositories/scheduling/calendar-mirror.ts';
import {
  APPOINTMENT_STATUSES,
  appointmentView,
  type Reservation,
} from '../persistence/repositories/scheduling/reservation-rows.ts';
import { findTenantById } from '../persistence/repositories/tenants.ts';
import { instant } from './schemas.ts';

// The appointment as the API answers it. The public page sees the slot and its status; the
// business sees what an operator reads a calendar by: the service's name, the customer, the
// conversation, the start and end in the business's own time zone beside the UTC instants, and
// whether something in the owner's calendar now overlaps it (a person has to decide what to do).

const appointmentFields = {
  id: z.uuid(),
  resource_id: z.uuid(),
  service_id: z.uuid(),
  start: instant,
  end: instant,
  status: z
    .enum(APPOINTMENT_STATUSES)
    .describe('confirmed until its outcome is marked (completed, no_show); cancelled frees the slot'),
};

/** The appointment as the public page sees it: no customer, no conversation. */
export const publicAppointmentSchema = z.object(appointmentFields).meta({ id: 'PublicAppointment' });

/** The appointment as the business sees it. */
export const appointmentSchema = z
  .object({
    ...appointmentFields,
    service_name: z.string().nullable().describe('null when the service was deleted since'),
    time_zone: z.string().describe("the business's IANA time zone"),
    start_local: z.string().describe('the start in the business time zone, ISO 8601 with its offset'),
    end_local: z.string().describe('the end in the business time zone, ISO 8601 with its offset'),
    conversation_id: z.uuid().nullable(),
    customer: z
      .object({ phone: z.string(), name: z.string().nullable() })
      .nullable()
      .describe("who booked: the caller of the conversation, or the public page's customer"),
    needs_attention: z
      .boolean()
      .describe("true while a busy block from the owner's calendar overlaps this live appointment"),
    calendar_conflicts: z
      .array(
        z.object({
          id: z.uuid().describe('The conflict (as GET /api/v1/calendar/conflicts lists it)'),
          busy: z.object({ start: instant, end: instant }).describe('The overlapping busy block'),
          detected_at: instant,
        }),
      )
      .describe('The open conflicts behind needs_attention; empty when there are none'),
  })
  .meta({ id: 'Appointment' });

export type AppointmentJson = z.infer<typeof appointmentSchema>;

const localIso = (iso: string, zone: string) =>
  DateTime.fromISO(iso, { zone }).toISO({ suppressMilliseconds: true }) ?? iso;

/**
 * The business's view of these appointments of `tenant` (whose zone the local times are in), with
 * the names and numbers looked up once for all.
 */
export async function appointmentsJson(
  db: Queryable,
  tenant: { id: string; time_zone: string },
  rows: readonly Reservation[],
): Promise<AppointmentJson[]> {
  if (rows.length === 0) return [];
  // One after the other: db may be a transaction's client, which runs one statement at a time.
  const services = await listServices(db, tenant.id);
  const conversationIds = rows.flatMap((r) => (r.conversation_id ? [r.conversation_id] : []));
  const callers = await callersOf(db, tenant.id, conversationIds);
  const conflicts = await openConflictsOf(
    db,
    tenant.id,
    rows.map((r) => r.id),
  );
  const zone = tenant.time_zone;
  const serviceNames = new Map(services.map((s) => [s.id, s.name]));
  return rows.map((r) => {
    const caller = r.conversation_id ? callers.get(r.conversation_id) : undefined;
    const open = conflicts.filter((c) => c.appointment_id === r.id);
    return {
      ...appointmentView(r),
      service_name: serviceNames.get(r.service_id) ?? null,
      time_zone: zone,
      start_local: localIso(r.start, zone),
      end_local: localIso(r.end, zone),
      conversation_id: r.conversation_id,
      customer:
        r.customer_phone !== null
          ? { phone: r.customer_phone, name: r.customer_name }
          : caller !== undefined
            ? { phone: caller, name: null }
            : null,
      needs_attention: open.length > 0,
      calendar_conflicts: open.map((c) => ({
        id: c.id,
        busy: { start: c.busy_start, end: c.busy_end },
        detected_at: c.detected_at,
      })),
    };
  });
}

export async function appointmentJson(
  db: Queryable,
  tenantId: string,
  row: Reservation,
): Promise<AppointmentJson> {
  const tenant = await findTenantById(db, tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} vanished`);
  const [json] = await appointmentsJson(db, tenant, [row]);
  if (json === undefined) throw new Error(`appointment ${row.id} has no view`);
  return json;
}
