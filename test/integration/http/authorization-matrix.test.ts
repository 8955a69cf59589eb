import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can, ROLES, type Role } from '../../../src/domain/authorization.ts';
import { hashBookingCode } from '../../../src/domain/booking-code.ts';
import type { ApiRoute, App } from '../../../src/http/app.ts';
import { inTransaction } from '../../../src/persistence/db.ts';
import { insertAlert } from '../../../src/persistence/repositories/alerts.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { recordOptOut } from '../../../src/persistence/repositories/compliance.ts';
import { insertBookingCode } from '../../../src/persistence/repositories/scheduling/booking-codes.ts';
import { createResource, setException } from '../../../src/persistence/repositories/scheduling/resources.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { upsertUserOnSight } from '../../../src/persistence/repositories/users.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { findAvailability } from '../../../src/runtime/scheduling/find-availability.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import { loadSchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { seedTenant } from '../../helpers/engine.ts';
import {
  type ApiResponse,
  appOf,
  call,
  errorOf,
  settleOutbound,
  startConversation,
  tokenFor,
} from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';
import { REGISTRATION } from '../../helpers/ten-dlc-registration.ts';

// The authorization matrix, built from the app's own route table (`app.apiRoutes`): every /api
// route × every role × (own id, another tenant's id, an id that does not exist). EXPECTED must list
// exactly the routes the app has, so a route added without an entry here fails this file.
//
// The rules: a role the action is not granted to gets 403 whatever the id (authorization comes
// before any lookup, so a 403 says nothing about the id); an allowed role gets 2xx with its own
// tenant's id, and 404 with another tenant's id exactly as with an id that does not exist. Routes
// without an id only get the "own" case. Public routes take no Bearer token; they are listed too,
// and those that take an id get the same foreign-equals-missing check through their own slug.

type IdKind =
  | 'conversation'
  | 'user'
  | 'service'
  | 'resource'
  | 'hold'
  | 'appointment'
  | 'alert'
  | 'tenant'
  | 'none';
type IdCase = 'own' | 'foreign' | 'missing';

type Fixture = {
  tenant: Tenant;
  conversation: string;
  user: string;
  service: string;
  resource: string;
  hold: string;
  /** An open alert on `conversation`. */
  alert: string;
  appointment: string;
  /** A tenant whose 10DLC registration waits for staff review (the staff routes' own id). */
  pendingTenant: string;
  slots: string[];
  /** A caller who opted out, and a date with exceptional hours on `resource`: rows the lists must scope. */
  optedOut: string;
  exceptionDate: string;
};

type Built = { query?: string; body?: unknown };
type Entry = {
  /** Which roles may call it; `public` routes take no Bearer token. */
  allowed: Record<Role, boolean> | 'public';
  /** The id the request carries (in the path, or in the query or body through `build`). */
  kind: IdKind;
  /** The request uses its own id up (confirm, cancel, release, deactivate): a new one per request. */
  fresh?: boolean;
  /** Query and body of a minimal valid request, given the id of the case. */
  build?: (id: string, own: Fixture) => Built;
  /** The status of the minimal "own" request when it is not a 2xx (a documented refusal). */
  ownStatus?: number;
};

const OWNER_ONLY = { OWNER: true, TECH: false, STAFF: false };
const STAFF_ONLY = { OWNER: false, TECH: false, STAFF: true };
const TENANT_USERS = { OWNER: true, TECH: true, STAFF: false };
/** Only an organisation with no tenant may onboard (its principal is not one of these roles; see test/integration/onboarding). */
const NO_ROLE = { OWNER: false, TECH: false, STAFF: false };

const DAY_MS = 86_400_000;
/** A date far from the fixtures' free slots, for the resource-exception routes. */
const EXCEPTION_DATE = '2031-01-01';
/** The exception each fixture's resource has from the start (not the one the routes above change). */
const FIXTURE_EXCEPTION_DATE = '2031-01-02';
const window = () => {
  const from = new Date(Date.now()).toISOString();
  const to = new Date(Date.now() + 7 * DAY_MS).toISOString();
  return `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
};
const nextSlot = (fx: Fixture): string => {
  const slot = fx.slots.shift();
  if (!slot) throw new Error('no free slots left in the fixture');
  return slot;
};
const empty = (): Built => ({ body: {} });

const EXPECTED: Record<string, Entry> = {
  'GET /api/v1/conversations': { allowed: TENANT_USERS, kind: 'none' },
  'GET /api/v1/conversations/:id': { allowed: TENANT_USERS, kind: 'conversation' },
  'POST /api/v1/conversations/:id/takeover': { allowed: TENANT_USERS, kind: 'conversation', build: empty },
  'POST /api/v1/conversations/:id/release': { allowed: TENANT_USERS, kind: 'conversation', build: empty },
  'POST /api/v1/conversations/:id/close': { allowed: TENANT_USERS, kind: 'conversation', build: empty },
  'POST /api/v1/conversations/:id/messages': {
    allowed: TENANT_USERS,
    kind: 'conversation',
    build: () => ({ body: { body: 'hi' } }),
  },
  'GET /api/v1/teammates': { allowed: TENANT_USERS, kind: 'none' },
  // The fixture's conversation is closed by then (POST …/close is walked first): a closed
  // conversation cannot be assigned (409). The 2xx path: test/integration/http/team-inbox.test.ts.
  'POST /api/v1/conversations/:id/assign': {
    allowed: TENANT_USERS,
    kind: 'conversation',
    build: (_id, own) => ({ body: { user_id: own.user } }),
    ownStatus: 409,
  },
  'GET /api/v1/conversations/:id/notes': { allowed: TENANT_USERS, kind: 'conversation' },
  'POST /api/v1/conversations/:id/notes': {
    allowed: TENANT_USERS,
    kind: 'conversation',
    build: () => ({ body: { body: 'Called back, no answer; try after 5.' } }),
  },
  'GET /api/v1/quick-replies': { allowed: TENANT_USERS, kind: 'none' },
  'GET /api/v1/settings/messaging': { allowed: OWNER_ONLY, kind: 'none' },
  'PATCH /api/v1/settings/messaging': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({ body: { greeting: 'Hi, this is {business}. Sorry we missed you! Reply here to book.' } }),
  },
  'PUT /api/v1/quick-replies': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({ body: { items: [{ title: 'On our way', body: 'We are on our way.' }] } }),
  },
  'GET /api/v1/users': { allowed: OWNER_ONLY, kind: 'none' },
  'POST /api/v1/users': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({ body: { email: `matrix-${randomUUID()}@example.com`, role: 'TECH' } }),
  },
  'PATCH /api/v1/users/:id': { allowed: OWNER_ONLY, kind: 'user', build: () => ({ body: { role: 'TECH' } }) },
  'DELETE /api/v1/users/:id': { allowed: OWNER_ONLY, kind: 'user', fresh: true },
  'GET /api/v1/alerts': { allowed: TENANT_USERS, kind: 'none', build: () => ({ query: 'state=open' }) },
  'POST /api/v1/alerts/:id/ack': { allowed: TENANT_USERS, kind: 'alert', build: empty },
  'GET /api/v1/me/alerts': { allowed: TENANT_USERS, kind: 'none' },
  'PUT /api/v1/me/alerts': {
    allowed: TENANT_USERS,
    kind: 'none',
    build: () => ({ body: { phone: '+13105550142', alerts_enabled: true, quiet_hours: null } }),
  },
  'GET /api/v1/users/:id/alerts': { allowed: OWNER_ONLY, kind: 'user' },
  'PUT /api/v1/users/:id/alerts': {
    allowed: OWNER_ONLY,
    kind: 'user',
    build: () => ({
      body: { phone: '+13105550143', alerts_enabled: true, quiet_hours: { start: '22:00', end: '07:00' } },
    }),
  },
  'GET /api/v1/services': { allowed: TENANT_USERS, kind: 'none' },
  'POST /api/v1/services': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({
      body: {
        name: `Matrix service ${randomUUID()}`,
        duration_minutes: 30,
        price: { amount_cents: 5000, currency: 'USD' },
      },
    }),
  },
  'PATCH /api/v1/services/:id': {
    allowed: OWNER_ONLY,
    kind: 'service',
    build: () => ({ body: { aliases: ['matrix'] } }),
  },
  'DELETE /api/v1/services/:id': { allowed: OWNER_ONLY, kind: 'service', fresh: true },
  'GET /api/v1/resources': { allowed: TENANT_USERS, kind: 'none' },
  'POST /api/v1/resources': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({ body: { name: 'Matrix van', time_zone: 'America/New_York' } }),
  },
  'PATCH /api/v1/resources/:id': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: () => ({ body: { name: 'Matrix crew' } }),
  },
  'GET /api/v1/resources/:id/exceptions': {
    allowed: TENANT_USERS,
    kind: 'resource',
    build: () => ({ query: 'from=2031-01-01&to=2031-01-31' }),
  },
  'PUT /api/v1/resources/:id/exceptions/:date': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: () => ({ body: { intervals: [] } }),
  },
  'DELETE /api/v1/resources/:id/exceptions/:date': { allowed: OWNER_ONLY, kind: 'resource' },
  'GET /api/v1/availability': {
    allowed: TENANT_USERS,
    kind: 'service',
    build: (id) => ({ query: `service_id=${id}&${window()}` }),
  },
  'POST /api/v1/holds': {
    allowed: TENANT_USERS,
    kind: 'resource',
    build: (id, own) => ({ body: { service_id: own.service, resource_id: id, start: nextSlot(own) } }),
  },
  'POST /api/v1/holds/:id/confirm': { allowed: TENANT_USERS, kind: 'hold', fresh: true, build: empty },
  'DELETE /api/v1/holds/:id': { allowed: TENANT_USERS, kind: 'hold', fresh: true },
  'GET /api/v1/appointments': { allowed: TENANT_USERS, kind: 'none', build: () => ({ query: window() }) },
  'GET /api/v1/holds': { allowed: TENANT_USERS, kind: 'none', build: () => ({ query: window() }) },
  'POST /api/v1/appointments/:id/cancel': {
    allowed: TENANT_USERS,
    kind: 'appointment',
    fresh: true,
    build: empty,
  },
  'POST /api/v1/appointments/:id/reschedule': {
    allowed: TENANT_USERS,
    kind: 'appointment',
    fresh: true,
    build: (_id, own) => ({ body: { start: nextSlot(own) } }),
  },
  // A fresh appointment has not started yet: its outcome cannot be marked (409 conflict).
  'POST /api/v1/appointments/:id/outcome': {
    allowed: TENANT_USERS,
    kind: 'appointment',
    fresh: true,
    build: () => ({ body: { outcome: 'completed' } }),
    ownStatus: 409,
  },
  'GET /api/v1/reports/funnel': { allowed: OWNER_ONLY, kind: 'none', build: () => ({ query: 'group=week' }) },
  'GET /api/v1/reports/funnel.csv': { allowed: OWNER_ONLY, kind: 'none' },
  'GET /api/v1/reports/first-response': { allowed: OWNER_ONLY, kind: 'none' },
  'GET /api/v1/reports/first-response.csv': { allowed: OWNER_ONLY, kind: 'none' },
  // The customer's page takes no operator token: a link's code (unknown here: 404), then its own
  // portal token (none here: 401).
  'POST /api/portal/sessions': {
    allowed: 'public',
    kind: 'none',
    build: () => ({ body: { code: 'Unknown2345Code' } }),
    ownStatus: 404,
  },
  'GET /api/portal/booking': { allowed: 'public', kind: 'none', ownStatus: 401 },
  'GET /api/portal/bookings': { allowed: 'public', kind: 'none', ownStatus: 401 },
  'GET /api/portal/booking/availability': {
    allowed: 'public',
    kind: 'none',
    build: () => ({ query: window() }),
    ownStatus: 401,
  },
  'POST /api/portal/booking/cancel': { allowed: 'public', kind: 'none', build: empty, ownStatus: 401 },
  'POST /api/portal/booking/reschedule': {
    allowed: 'public',
    kind: 'none',
    build: () => ({ body: { start: new Date(Date.now() + DAY_MS).toISOString() } }),
    ownStatus: 401,
  },
  'GET /api/v1/billing': { allowed: OWNER_ONLY, kind: 'none' },
  'POST /api/v1/billing/checkout': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({ body: { plan: 'pro' } }),
  },
  'POST /api/v1/billing/portal': { allowed: OWNER_ONLY, kind: 'none', build: empty },
  'POST /api/v1/stream-tokens': { allowed: TENANT_USERS, kind: 'none', build: empty },
  'GET /api/v1/compliance': { allowed: OWNER_ONLY, kind: 'none' },
  // The demo's campaign is approved: a new registration goes through support (409 conflict).
  'PUT /api/v1/compliance/registration': {
    allowed: OWNER_ONLY,
    kind: 'none',
    build: () => ({ body: REGISTRATION }),
    ownStatus: 409,
  },
  'GET /api/v1/compliance/opt-outs': { allowed: OWNER_ONLY, kind: 'none' },
  'GET /api/v1/compliance/opt-outs.csv': { allowed: OWNER_ONLY, kind: 'none' },
  // Calendars: the fixtures' resources have no calendar connected, so the routes that need one
  // answer their documented 409 (connecting itself is covered in test/integration/calendar/).
  'GET /api/v1/resources/:id/calendar/connect': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: () => ({ query: 'redirect=false' }),
  },
  'GET /api/v1/resources/:id/calendar': { allowed: OWNER_ONLY, kind: 'resource' },
  'PUT /api/v1/resources/:id/calendar/calendars': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: () => ({ body: { calendars: [] } }),
    ownStatus: 409,
  },
  'DELETE /api/v1/resources/:id/calendar': { allowed: OWNER_ONLY, kind: 'resource' },
  'POST /api/v1/resources/:id/calendar/backfill': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: empty,
    ownStatus: 409,
  },
  'POST /api/v1/resources/:id/calendar/reconcile': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: empty,
    ownStatus: 409,
  },
  'POST /api/v1/resources/:id/calendar/sandbox-events': {
    allowed: OWNER_ONLY,
    kind: 'resource',
    build: () => ({ body: { start: '2031-01-06T17:00:00Z', end: '2031-01-06T18:00:00Z' } }),
    ownStatus: 409,
  },
  'GET /api/v1/calendars': { allowed: TENANT_USERS, kind: 'none' },
  'GET /api/v1/calendar/conflicts': { allowed: TENANT_USERS, kind: 'none' },
  'GET /api/v1/calendar/busy': { allowed: TENANT_USERS, kind: 'none', build: () => ({ query: window() }) },
  // The OAuth redirect carries no login; an unknown state is refused.
  'GET /api/v1/calendar/oauth/callback': {
    allowed: 'public',
    kind: 'none',
    build: () => ({ query: `state=${'s'.repeat(43)}&code=x` }),
    ownStatus: 400,
  },
  // Onboarding: an owner whose organisation has a tenant reads how it ended; nobody with a tenant
  // changes a draft.
  'GET /api/v1/onboarding': { allowed: OWNER_ONLY, kind: 'none' },
  'PUT /api/v1/onboarding': { allowed: NO_ROLE, kind: 'none', build: () => ({ body: { name: 'Matrix' } }) },
  'POST /api/v1/onboarding/phone/code': {
    allowed: NO_ROLE,
    kind: 'none',
    build: () => ({ body: { phone: '+14155550100' } }),
  },
  'POST /api/v1/onboarding/phone/verify': {
    allowed: NO_ROLE,
    kind: 'none',
    build: () => ({ body: { code: '123456' } }),
  },
  'GET /api/v1/onboarding/numbers': {
    allowed: NO_ROLE,
    kind: 'none',
    build: () => ({ query: 'area_code=415' }),
  },
  'POST /api/v1/onboarding/checkout': {
    allowed: NO_ROLE,
    kind: 'none',
    build: () => ({ body: { plan: 'starter' } }),
  },
  'GET /api/staff/tenants': { allowed: STAFF_ONLY, kind: 'none' },
  'GET /api/staff/compliance/pending': { allowed: STAFF_ONLY, kind: 'none' },
  'POST /api/staff/compliance/:tenantId/review': {
    allowed: STAFF_ONLY,
    kind: 'tenant',
    build: () => ({ body: { status: 'approved' } }),
  },
  // Provisioning: a new tenant per call (its convergence runs against the sandboxes); the matrix's
  // own tenants were seeded, not provisioned, so changing their desired state is a 409.
  'POST /api/staff/tenants': {
    allowed: STAFF_ONLY,
    kind: 'none',
    build: () => ({
      body: {
        slug: `matrix-${randomUUID().slice(0, 8)}`,
        name: 'Matrix Plumbing',
        time_zone: 'America/New_York',
        auth_org_id: null,
        forwarding_phone: '+14155550100',
      },
    }),
  },
  'GET /api/staff/tenants/:tenantId': { allowed: STAFF_ONLY, kind: 'tenant' },
  'PATCH /api/staff/tenants/:tenantId': {
    allowed: STAFF_ONLY,
    kind: 'tenant',
    build: () => ({ body: { forwarding_phone: '+14155550101' } }),
    ownStatus: 409,
  },
  'POST /api/staff/tenants/:tenantId/converge': { allowed: STAFF_ONLY, kind: 'tenant', ownStatus: 409 },
  'POST /api/staff/tenants/:tenantId/close': { allowed: STAFF_ONLY, kind: 'tenant', ownStatus: 409 },
  'GET /api/staff/tenants/:tenantId/export': { allowed: STAFF_ONLY, kind: 'tenant' },
  'POST /api/staff/tenants/:tenantId/backfill': { allowed: STAFF_ONLY, kind: 'tenant' },
  'GET /api/staff/drift': { allowed: STAFF_ONLY, kind: 'none' },
  'GET /api/staff/provisioning/failed-steps': { allowed: STAFF_ONLY, kind: 'none' },
  'POST /api/staff/reconcile': {
    allowed: STAFF_ONLY,
    kind: 'none',
    build: () => ({ body: { dry_run: true } }),
  },
  'GET /api/staff/dead-letters': { allowed: STAFF_ONLY, kind: 'none' },
  'POST /api/staff/dead-letters/replay': {
    allowed: STAFF_ONLY,
    kind: 'none',
    build: () => ({ body: { all: true } }),
  },
  // The stoken is the stream's only credential; an unknown one is refused (a live stream never ends,
  // so the minimal request here is a refused one).
  'GET /api/v1/stream': {
    allowed: 'public',
    kind: 'none',
    build: () => ({ query: `stoken=${'s'.repeat(43)}` }),
    ownStatus: 401,
  },
  'GET /api/public/:slug/services': { allowed: 'public', kind: 'none' },
  'GET /api/public/:slug/availability': {
    allowed: 'public',
    kind: 'service',
    build: (id) => ({ query: `service_id=${id}&${window()}` }),
  },
  'POST /api/public/:slug/holds': {
    allowed: 'public',
    kind: 'resource',
    build: (id, own) => ({
      body: {
        service_id: own.service,
        resource_id: id,
        start: nextSlot(own),
        customer: { name: 'Matrix Customer', phone: PUBLIC_CUSTOMER },
      },
    }),
  },
  'DELETE /api/public/:slug/holds/:id': { allowed: 'public', kind: 'hold', fresh: true },
  'POST /api/public/:slug/bookings': {
    allowed: 'public',
    kind: 'hold',
    fresh: true,
    build: (id) => ({ body: { hold_id: id, code: HOLD_CODE } }),
  },
};

let t: TestSystem;
let app: App;
let own: Fixture;
let foreign: Fixture;
let foreignBefore: unknown;
const tokens = {} as Record<Role, string>;
const OTHER_CALLER = '+12125550199';
const OTHER_OPTED_OUT = '+12125550198';
const OWN_CALLER = '+13105550171';
const OWN_OPTED_OUT = '+13105550172';
const OTHER_ORG = 'org_other';

async function slotsOf(tenantId: string, service: string, resource: string): Promise<string[]> {
  const now = new Date().toISOString();
  const result = await findAvailability(t.system.db, {
    tenantId,
    serviceId: service,
    resourceId: resource,
    from: new Date(Date.now() + 2 * 3_600_000).toISOString(),
    to: new Date(Date.now() + 12 * DAY_MS).toISOString(),
    now,
    settings: await loadSchedulingSettings(t.system.db, tenantId, { holdTtlMinutes: 15 }),
  });
  return result.items.map((slot) => slot.start);
}

/** Every fixture hold can also be booked through the public API, with this code. */
const HOLD_CODE = '424242';
/** The caller who holds a time through the public API (one hold, well under the per-phone limit). */
const PUBLIC_CUSTOMER = '+13105550173';

async function newHold(fx: Fixture): Promise<string> {
  const hold = await inTransaction(t.system.db, async (client) => {
    const placed = await placeHold(client, {
      tenantId: fx.tenant.id,
      serviceId: fx.service,
      resourceId: fx.resource,
      start: nextSlot(fx),
      now: new Date().toISOString(),
      holdTtlMinutes: 15,
      boss: t.system.boss,
    });
    await insertBookingCode(client, {
      tenantId: fx.tenant.id,
      holdId: placed.id,
      codeHash: hashBookingCode(placed.id, HOLD_CODE),
    });
    return placed;
  });
  return hold.id;
}

async function newAppointment(fx: Fixture): Promise<string> {
  const holdId = await newHold(fx);
  const appointment = await inTransaction(t.system.db, (client) =>
    confirmHold(client, { tenantId: fx.tenant.id, holdId, now: new Date().toISOString() }),
  );
  return appointment.id;
}

async function newService(tenantId: string): Promise<string> {
  const service = await createService(t.system.db, tenantId, {
    name: `Matrix ${randomUUID()}`,
    duration_minutes: 30,
    price: { amount_cents: 9900, currency: 'USD' },
  });
  return service.id;
}

async function newUser(tenantId: string): Promise<string> {
  const user = await upsertUserOnSight(t.system.db, {
    tenantId,
    subject: `matrix_user_${randomUUID()}`,
    email: null,
    role: 'TECH',
  });
  return user.id;
}

async function fixtureFor(
  tenant: Tenant,
  people: { caller: string; optedOut: string; userSubject: string },
): Promise<Fixture> {
  const service = await newService(tenant.id);
  const allDay = [{ start: '00:00', end: '24:00' }];
  const resource = await createResource(t.system.db, tenant.id, {
    name: 'Matrix resource',
    time_zone: 'UTC',
    weekly_hours: { 1: allDay, 2: allDay, 3: allDay, 4: allDay, 5: allDay, 6: allDay, 7: allDay },
  });
  const user = await upsertUserOnSight(t.system.db, {
    tenantId: tenant.id,
    subject: people.userSubject,
    email: null,
    role: 'TECH',
  });
  await recordOptOut(t.system.db, tenant.id, people.optedOut, 'keyword');
  await setException(t.system.db, tenant.id, resource.id, FIXTURE_EXCEPTION_DATE, [
    { start: '10:00', end: '12:00' },
  ]);
  const fx: Fixture = {
    tenant,
    conversation: await startConversation(t.system, tenant.id, people.caller),
    user: user.id,
    service,
    resource: resource.id,
    hold: '',
    alert: '',
    appointment: '',
    pendingTenant: (await seedTenant(t.system.db, { campaign: 'pending' })).id,
    slots: await slotsOf(tenant.id, service, resource.id),
    optedOut: people.optedOut,
    exceptionDate: FIXTURE_EXCEPTION_DATE,
  };
  fx.hold = await newHold(fx);
  fx.alert = randomUUID();
  await insertAlert(t.system.db, {
    tenantId: tenant.id,
    id: fx.alert,
    conversationId: fx.conversation,
    reason: 'handover_requested',
    urgent: false,
    sourceEventId: randomUUID(),
    at: new Date().toISOString(),
  });
  fx.appointment = await newAppointment(fx);
  return fx;
}

/** Everything the other tenant has that a request of ours could have changed. */
async function foreignState(): Promise<unknown> {
  const q = async (sql: string) => (await t.system.db.query(sql, [foreign.tenant.id])).rows;
  return {
    conversations: await q(
      'SELECT id, state, version, assigned_to FROM conv_conversations WHERE tenant_id = $1',
    ),
    // Ids only: the greeting's delivery status moves on its own.
    messages: await q('SELECT id, participant FROM conv_messages WHERE tenant_id = $1 ORDER BY id'),
    users: await q('SELECT id, role FROM id_users WHERE tenant_id = $1 ORDER BY id'),
    services: await q(
      'SELECT id, name, active, aliases FROM catalog_services WHERE tenant_id = $1 ORDER BY id',
    ),
    resources: await q('SELECT id, name FROM sched_resources WHERE tenant_id = $1 ORDER BY id'),
    reservations: await q('SELECT id, kind, status FROM sched_reservations WHERE tenant_id = $1 ORDER BY id'),
    exceptions: await q(
      'SELECT resource_id, date::text, intervals FROM sched_exceptions WHERE tenant_id = $1 ORDER BY resource_id, date',
    ),
    optOuts: await q('SELECT phone, source FROM comp_opt_outs WHERE tenant_id = $1 ORDER BY phone'),
    alerts: await q('SELECT id, state FROM conv_alerts WHERE tenant_id = $1 ORDER BY id'),
    alertSettings: await q(
      'SELECT id, alert_phone, alerts_enabled, quiet_start_minute FROM id_users WHERE tenant_id = $1 ORDER BY id',
    ),
  };
}

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  const other = await seedTenant(t.system.db, { auth_org_id: OTHER_ORG, name: 'Other Tenant Plumbing' });
  for (const role of ROLES) {
    tokens[role] = await tokenFor(t.system, {
      subject: `matrix_${role.toLowerCase()}`,
      role,
      org: 'org_demo',
    });
  }
  own = await fixtureFor(t.demo, {
    caller: OWN_CALLER,
    optedOut: OWN_OPTED_OUT,
    userSubject: 'matrix_target',
  });
  foreign = await fixtureFor(other, {
    caller: OTHER_CALLER,
    optedOut: OTHER_OPTED_OUT,
    userSubject: 'other_target',
  });
  foreignBefore = await foreignState();
});
afterAll(async () => {
  // No send in flight when the system stops (a send racing shutdown has hung stop(); see the report).
  if (t) await settleOutbound(t);
  // fetch's pool keeps the event streams' connections, which server.close() would wait out.
  t?.system.app?.server.closeAllConnections();
  await t?.stop();
});

const keyOf = (route: Pick<ApiRoute, 'method' | 'url'>) => `${route.method} ${route.url}`;

function entryOf(route: ApiRoute): Entry {
  const entry = EXPECTED[keyOf(route)];
  if (!entry) throw new Error(`no matrix entry for ${keyOf(route)}`);
  return entry;
}

function casesOf(entry: Entry): IdCase[] {
  if (entry.kind === 'none') return ['own'];
  // Staff act across tenants: an id is theirs to see or it does not exist.
  if (entry.kind === 'tenant') return ['own', 'missing'];
  return ['own', 'foreign', 'missing'];
}

async function idFor(entry: Entry, idCase: IdCase): Promise<string> {
  if (entry.kind === 'none' || idCase === 'missing') return randomUUID();
  const fx = idCase === 'own' ? own : foreign;
  if (entry.kind === 'tenant') return fx.pendingTenant;
  if (entry.fresh && idCase === 'own') {
    if (entry.kind === 'hold') return newHold(fx);
    if (entry.kind === 'appointment') return newAppointment(fx);
    if (entry.kind === 'service') return newService(fx.tenant.id);
    if (entry.kind === 'user') return newUser(fx.tenant.id);
    throw new Error(`no fresh ${entry.kind} fixture`);
  }
  return fx[entry.kind];
}

/** The minimal valid request of `route` for one id case (the slug is always our own tenant's). */
async function requestFor(route: ApiRoute, idCase: IdCase) {
  const entry = entryOf(route);
  const id = await idFor(entry, idCase);
  const built = entry.build?.(id, own) ?? {};
  const path = route.url
    .replace(':slug', own.tenant.slug)
    .replace(':id', id)
    .replace(':tenantId', id)
    .replace(':date', EXCEPTION_DATE);
  return {
    id,
    method: route.method,
    url: built.query ? `${path}?${built.query}` : path,
    ...(built.body === undefined ? {} : { body: built.body }),
  };
}

const secretsOfTheOtherTenant = () => [
  foreign.tenant.id,
  foreign.tenant.slug,
  foreign.tenant.name,
  foreign.tenant.twilio_number ?? '',
  OTHER_CALLER,
  OTHER_OPTED_OUT,
  OTHER_ORG,
];

/** Asserts 404 `not_found` that names nothing of the other tenant; returns the message. */
function expectNotFound(res: ApiResponse, label: string, id: string): string {
  expect(res.status, label).toBe(404);
  expect(res.body, label).toEqual({
    error: { code: 'not_found', message: expect.any(String), correlation_id: expect.any(String) },
  });
  const message = errorOf(res).message;
  for (const secret of [id, ...secretsOfTheOtherTenant()]) expect(message, label).not.toContain(secret);
  return message;
}

function expect2xx(res: ApiResponse, label: string) {
  expect(res.status, label).toBeGreaterThanOrEqual(200);
  expect(res.status, label).toBeLessThan(300);
}

describe('the route table', () => {
  it('lists exactly the routes the matrix covers (a new route needs an entry here)', () => {
    const routes = app.apiRoutes.map(keyOf).sort();
    expect(new Set(routes).size).toBe(routes.length);
    expect(routes).toEqual(Object.keys(EXPECTED).sort());
  });

  it('agrees with the authorization rules (role × action) and the public flags', () => {
    for (const route of app.apiRoutes) {
      const entry = entryOf(route);
      expect(route.public, keyOf(route)).toBe(entry.allowed === 'public');
      if (entry.allowed === 'public') continue;
      if (!route.action) throw new Error(`${keyOf(route)} names no action`);
      for (const role of ROLES) {
        expect(can(role, route.action), `${role} ${keyOf(route)}`).toBe(entry.allowed[role]);
      }
    }
  });

  it('names a kind of id for every route with an id in its path', () => {
    for (const route of app.apiRoutes) {
      if (route.url.includes(':id')) expect(entryOf(route).kind, keyOf(route)).not.toBe('none');
    }
  });
});

describe('the matrix', () => {
  it('asks for a Bearer token on every route that is not public', async () => {
    const results = await Promise.all(
      app.apiRoutes
        .filter((route) => !route.public)
        .map(async (route) => {
          const url = route.url.replace(':id', randomUUID()).replace(':tenantId', randomUUID());
          const res = await call(app, { method: route.method, url });
          return [keyOf(route), res] as const;
        }),
    );
    for (const [route, res] of results) {
      expect(res.status, route).toBe(401);
      expect(errorOf(res).code, route).toBe('unauthorized');
    }
  });

  it('answers each role on each route: 2xx own, 404 foreign and missing alike, 403 when not allowed', async () => {
    let checked = 0;
    // One route at a time (its role × id requests at once), so a route that changes state (close)
    // does not race another route on the same row.
    for (const route of app.apiRoutes.filter((r) => !r.public)) {
      const entry = entryOf(route);
      if (entry.allowed === 'public') continue;
      const allowed = entry.allowed;
      const prepared = [];
      for (const role of ROLES) {
        for (const idCase of casesOf(entry)) {
          // A forbidden role never reaches the handler: no need to spend a fresh id on it.
          const request =
            allowed[role] || !entry.fresh
              ? await requestFor(route, idCase)
              : await requestFor(route, idCase === 'own' ? 'missing' : idCase);
          prepared.push({ role, idCase, request });
        }
      }
      const results = await Promise.all(
        prepared.map(async ({ role, idCase, request }) => ({
          role,
          idCase,
          id: request.id,
          res: await call(app, { ...request, token: tokens[role] }),
        })),
      );
      const messages: Record<string, string> = {};
      for (const { role, idCase, id, res } of results) {
        const label = `${role} ${keyOf(route)} (${idCase} id) → ${res.status} ${res.raw.slice(0, 200)}`;
        checked += 1;
        if (!allowed[role]) {
          expect(res.status, label).toBe(403);
          expect(errorOf(res).code, label).toBe('forbidden');
        } else if (idCase === 'own') {
          if (entry.ownStatus === undefined) expect2xx(res, label);
          else expect(res.status, label).toBe(entry.ownStatus);
        } else {
          messages[`${role} ${idCase}`] = expectNotFound(res, label, id);
        }
      }
      // Another tenant's id is indistinguishable from one that does not exist.
      for (const role of ROLES.filter((r) => allowed[r] && casesOf(entry).includes('foreign'))) {
        expect(messages[`${role} foreign`], `${role} ${keyOf(route)}`).toBe(messages[`${role} missing`]);
      }
    }
    const expectedCount = app.apiRoutes
      .filter((r) => !r.public)
      .reduce((sum, route) => sum + ROLES.length * casesOf(entryOf(route)).length, 0);
    expect(checked).toBe(expectedCount);
  });

  it('takes public routes without a token, and answers foreign ids through our slug like missing ones', async () => {
    for (const route of app.apiRoutes.filter((r) => r.public)) {
      const entry = entryOf(route);
      const results = [];
      for (const idCase of casesOf(entry)) {
        const request = await requestFor(route, idCase);
        results.push({ idCase, id: request.id, res: await call(app, request) });
      }
      const messages: Record<string, string> = {};
      for (const { idCase, id, res } of results) {
        const label = `${keyOf(route)} (${idCase} id) → ${res.status} ${res.raw.slice(0, 200)}`;
        if (idCase === 'own') {
          if (entry.ownStatus === undefined) expect2xx(res, label);
          else expect(res.status, label).toBe(entry.ownStatus);
        } else {
          messages[idCase] = expectNotFound(res, label, id);
        }
      }
      if (casesOf(entry).includes('foreign')) expect(messages.foreign, keyOf(route)).toBe(messages.missing);
    }
  });

  it("leaves the other tenant's data untouched", async () => {
    expect(await foreignState()).toEqual(foreignBefore);
  });

  it('records every STAFF call in audit_logs: denied ones on tenant routes, the staff API as it answered', async () => {
    const audited = app.apiRoutes.filter((r) => r.audit && !r.public && r.action);
    const expected = audited.flatMap((route) =>
      casesOf(entryOf(route)).map((idCase) => {
        const allowed = route.action !== null && can('STAFF', route.action);
        const own = entryOf(route).ownStatus;
        const ownResult = own !== undefined && own >= 400 ? `rejected_${own}` : 'success';
        const result = !allowed ? 'forbidden' : idCase === 'own' ? ownResult : 'rejected_404';
        return `${route.action} ${result}`;
      }),
    );
    // Written when the response is known (onResponse), so it may land just after the reply.
    const rows = await waitFor(async () => {
      const { rows } = await t.system.db.query<{ role: string; action: string; result: string }>(
        "SELECT role, action, result FROM audit_logs WHERE tenant_id IS NULL AND actor = 'matrix_staff'",
      );
      return rows.length >= expected.length ? rows : null;
    });
    expect(rows.every((row) => row.role === 'STAFF')).toBe(true);
    expect(rows.map((row) => `${row.action} ${row.result}`).sort()).toEqual(expected.sort());
  });
});

// Every list answers with the caller's tenant's rows only. Each check is positive and negative: the
// fixture's own rows ARE listed (so an empty or broken list cannot pass) and the other tenant's
// rows, which exist for every kind, are NOT. Lists are read to their last page.
describe("every list shows the caller's tenant's rows, and only those", () => {
  type Item = Record<string, unknown>;
  let owner: string;
  let staff: string;

  beforeAll(async () => {
    owner = tokens.OWNER;
    // Not matrix_staff: the audit test above counts that subject's rows.
    staff = await tokenFor(t.system, { subject: 'lists_staff', role: 'STAFF' });
  });

  /** Every item of a keyset-paginated list, following next_cursor to the end. */
  async function listAll(path: string, token: string | null): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const separator = path.includes('?') ? '&' : '?';
      const url = cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path;
      const res = await call(app, { method: 'GET', url, token });
      expect(res.status, `GET ${url} → ${res.raw.slice(0, 300)}`).toBe(200);
      const body = res.body as { items: Item[]; next_cursor: string | null };
      items.push(...body.items);
      cursor = body.next_cursor;
      if (cursor === null) return items;
    }
    throw new Error(`${path}: more than 100 pages`);
  }

  const values = (items: Item[], key: string) => items.map((item) => item[key]);
  const wideWindow = () => {
    const from = new Date(Date.now() - DAY_MS).toISOString();
    const to = new Date(Date.now() + 14 * DAY_MS).toISOString();
    return `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  };

  it('conversations: our caller, not theirs', async () => {
    const items = await listAll('/api/v1/conversations?limit=100', tokens.TECH);
    expect(values(items, 'id')).toContain(own.conversation);
    expect(values(items, 'id')).not.toContain(foreign.conversation);
    expect(values(items, 'caller')).not.toContain(OTHER_CALLER);
    // The caller filter searches our tenant only, even for a number only they have.
    const searched = await listAll(`/api/v1/conversations?caller=${encodeURIComponent(OTHER_CALLER)}`, owner);
    expect(searched).toEqual([]);
  });

  it('users: ours, not theirs', async () => {
    const items = await listAll('/api/v1/users', owner);
    expect(values(items, 'id')).toContain(own.user);
    expect(values(items, 'id')).not.toContain(foreign.user);
    const { rows } = await t.system.db.query<{ id: string }>('SELECT id FROM id_users WHERE tenant_id = $1', [
      foreign.tenant.id,
    ]);
    expect(rows.length).toBeGreaterThan(0);
    for (const { id } of rows) expect(values(items, 'id')).not.toContain(id);
  });

  it('services and resources: ours, not theirs (also through our public slug)', async () => {
    const services = await listAll('/api/v1/services', tokens.TECH);
    expect(values(services, 'id')).toContain(own.service);
    expect(values(services, 'id')).not.toContain(foreign.service);
    const resources = await listAll('/api/v1/resources', tokens.TECH);
    expect(values(resources, 'id')).toContain(own.resource);
    expect(values(resources, 'id')).not.toContain(foreign.resource);

    const publicServices = await listAll(`/api/public/${own.tenant.slug}/services`, null);
    expect(values(publicServices, 'id')).toContain(own.service);
    expect(values(publicServices, 'id')).not.toContain(foreign.service);
  });

  it('availability offers our resources only (also through our public slug)', async () => {
    const resources = new Set(values(await listAll('/api/v1/resources', owner), 'id'));
    const query = `service_id=${own.service}&${window()}`;
    for (const [url, token] of [
      [`/api/v1/availability?${query}`, tokens.TECH],
      [`/api/public/${own.tenant.slug}/availability?${query}`, null],
    ] as const) {
      const slots = await listAll(url, token);
      expect(values(slots, 'resource_id'), url).toContain(own.resource);
      for (const slot of slots) expect(resources.has(slot.resource_id), url).toBe(true);
      expect(values(slots, 'resource_id'), url).not.toContain(foreign.resource);
    }
  });

  it('appointments: ours, not theirs', async () => {
    const items = await listAll(`/api/v1/appointments?${wideWindow()}&limit=200`, tokens.TECH);
    expect(values(items, 'id')).toContain(own.appointment);
    expect(values(items, 'id')).not.toContain(foreign.appointment);
    const { rows } = await t.system.db.query<{ id: string }>(
      'SELECT id FROM sched_reservations WHERE tenant_id = $1',
      [foreign.tenant.id],
    );
    for (const { id } of rows) expect(values(items, 'id')).not.toContain(id);
    const resources = new Set(values(await listAll('/api/v1/resources', owner), 'id'));
    for (const item of items) expect(resources.has(item.resource_id)).toBe(true);
  });

  it('alerts: ours, not theirs', async () => {
    const raise = async (fx: Fixture) => {
      const alert = await insertAlert(t.system.db, {
        tenantId: fx.tenant.id,
        id: randomUUID(),
        conversationId: fx.conversation,
        reason: 'handover_requested',
        urgent: false,
        sourceEventId: randomUUID(),
        at: new Date().toISOString(),
      });
      if (!alert) throw new Error('alert not recorded');
      return alert.id;
    };
    const ours = await raise(own);
    const theirs = await raise(foreign);
    const items = await listAll('/api/v1/alerts?limit=1', tokens.TECH);
    expect(values(items, 'id')).toContain(ours);
    expect(values(items, 'id')).not.toContain(theirs);
    expect(values(items, 'conversation_id')).not.toContain(foreign.conversation);
  });

  it("resource exceptions: our resource's own days", async () => {
    const items = await listAll(
      `/api/v1/resources/${own.resource}/exceptions?from=2031-01-01&to=2031-01-31`,
      owner,
    );
    expect(values(items, 'date')).toContain(own.exceptionDate);
  });

  it('opt-outs, as JSON and as CSV: our caller, not theirs', async () => {
    const items = await listAll('/api/v1/compliance/opt-outs?limit=1', owner);
    expect(values(items, 'phone')).toContain(own.optedOut);
    expect(values(items, 'phone')).not.toContain(foreign.optedOut);

    const csv = await call(app, { method: 'GET', url: '/api/v1/compliance/opt-outs.csv', token: owner });
    expect(csv.status).toBe(200);
    const phones = csv.raw
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    expect(phones).toContain(own.optedOut);
    expect(phones).not.toContain(foreign.optedOut);
  });

  it('dead letters: staff see every tenant’s, each under its own tenant', async () => {
    const insert = (tenantId: string) =>
      t.system.db
        .query<{ event_id: string }>(
          `INSERT INTO outbox_dead_letters (tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, payload, attempts, last_error)
           VALUES ($1, gen_random_uuid(), 'nmc.matrix.Probe', 1, now(), 'matrix', '{}', 6, 'probe') RETURNING event_id`,
          [tenantId],
        )
        .then((r) => r.rows[0]?.event_id);
    const ours = await insert(own.tenant.id);
    const theirs = await insert(foreign.tenant.id);
    const items = await listAll('/api/staff/dead-letters', staff);
    const pairs = items.map((item) => `${item.tenant_id} ${item.event_id}`);
    expect(pairs).toContain(`${own.tenant.id} ${ours}`);
    expect(pairs).toContain(`${foreign.tenant.id} ${theirs}`);
    // Tenant users never see them (the matrix checks the 403 for every role).
    await t.system.db.query("DELETE FROM outbox_dead_letters WHERE event_name = 'nmc.matrix.Probe'");
  });

  it('the event stream: each tenant gets its own events, never the other’s', async () => {
    const streams = await Promise.all([own, foreign].map((fx) => openEventStream(fx)));
    try {
      // Fresh events after both subscribed, the other tenant's first: events arrive in seq order,
      // so once our marker arrives every earlier event of theirs would have arrived too.
      const markers = {
        foreign: await startConversation(t.system, foreign.tenant.id, '+12125550197'),
        own: await startConversation(t.system, own.tenant.id, '+13105550173'),
      };
      const [ours, theirs] = streams as [EventStream, EventStream];
      await waitFor(async () => ours.conversations().has(markers.own), 10_000);
      await waitFor(async () => theirs.conversations().has(markers.foreign), 10_000);
      // Replayed from the start: the fixtures' conversations are there as well.
      expect(ours.conversations().has(own.conversation)).toBe(true);
      expect(theirs.conversations().has(foreign.conversation)).toBe(true);
      expect(new Set(ours.tenants())).toEqual(new Set([own.tenant.id]));
      expect(new Set(theirs.tenants())).toEqual(new Set([foreign.tenant.id]));
      expect(ours.conversations().has(markers.foreign)).toBe(false);
      expect(theirs.conversations().has(markers.own)).toBe(false);
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }
  });
});

type EventStream = {
  tenants(): string[];
  conversations(): Set<string>;
  close(): Promise<void>;
};

/** Opens the SSE stream of `fx`'s tenant from its first event, over real HTTP (a stream never ends). */
async function openEventStream(fx: Fixture): Promise<EventStream> {
  const token = await tokenFor(t.system, {
    subject: `stream_${fx.tenant.slug}`,
    role: 'OWNER',
    org: fx.tenant.auth_org_id,
  });
  const minted = await call(app, { method: 'POST', url: '/api/v1/stream-tokens', token, body: {} });
  expect(minted.status, minted.raw).toBe(201);
  const { stoken } = minted.body as { stoken: string };
  const controller = new AbortController();
  const response = await fetch(
    `${t.baseUrl}/api/v1/stream?stoken=${encodeURIComponent(stoken)}&last_event_id=0`,
    {
      signal: controller.signal,
    },
  );
  expect(response.status).toBe(200);
  const envelopes: { tenant_id: string; payload: Record<string, unknown> }[] = [];
  const reading = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .find((line) => line.startsWith('data: '));
          if (data) envelopes.push(JSON.parse(data.slice(6)));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    tenants: () => envelopes.map((e) => e.tenant_id),
    conversations: () =>
      new Set(
        envelopes.flatMap((e) =>
          typeof e.payload.conversation_id === 'string' ? [e.payload.conversation_id] : [],
        ),
      ),
    async close() {
      controller.abort();
      await reading;
    },
  };
}
