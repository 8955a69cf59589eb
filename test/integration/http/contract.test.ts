import { createHmac, randomUUID } from 'node:crypto';
import ajvFormats from 'ajv-formats';
import { OpenAPIBackend } from 'openapi-backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Action, can, type Role } from '../../../src/domain/authorization.ts';
import { hashBookingCode } from '../../../src/domain/booking-code.ts';
import type { App } from '../../../src/http/app.ts';
import {
  type HttpMethod,
  type OpenApiDocument,
  type OperationObject,
  operationsOf,
} from '../../../src/http/openapi/document-types.ts';
import { createPool, inTransaction, type Pool } from '../../../src/persistence/db.ts';
import { insertAlert } from '../../../src/persistence/repositories/alerts.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { recordOptOut } from '../../../src/persistence/repositories/compliance.ts';
import { insertBookingCode } from '../../../src/persistence/repositories/scheduling/booking-codes.ts';
import { createResource } from '../../../src/persistence/repositories/scheduling/resources.ts';
import { upsertUserOnSight } from '../../../src/persistence/repositories/users.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { DEMO_RESOURCE, demoRowId } from '../../../src/persistence/seed-demo-scheduling.ts';
import { createOperatorAuth } from '../../../src/providers/auth/operator-auth.ts';
import { jobberAccountFrom } from '../../../src/providers/jobber/account.ts';
import { jobberSignature } from '../../../src/providers/jobber/webhook-signature.ts';
import { stripeAccountFrom } from '../../../src/providers/stripe/account.ts';
import { SANDBOX_ACCOUNT } from '../../../src/providers/twilio/account.ts';
import { signTwilioRequest } from '../../../src/providers/twilio/signature.ts';
import { portalLinks } from '../../../src/runtime/portal/portal-links.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { findAvailability } from '../../../src/runtime/scheduling/find-availability.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import { loadSchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { buildTestApp } from '../../helpers/app.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { appOf, settleOutbound, startConversation, tokenFor } from '../../helpers/operator-api.ts';
import { waitFor } from '../../helpers/system.ts';
import { REGISTRATION } from '../../helpers/ten-dlc-registration.ts';
import { type CalendarFixture, startCalendarFixture } from '../calendar/calendar-fixture.ts';

// The published document against the server, operation by operation, enumerated from the
// document itself: one valid request, then one request per declared error status that can be
// provoked (a malformed input, no credential, a role or signature that is refused, an unknown id, a
// body too large or of the wrong type, a reused idempotency key, the rate limit on an app limited
// to one request a minute, the database gone on an app whose pool points nowhere). Every answer's
// status must be declared, its content type must be one the document lists for that status, and
// its body must validate against the document (openapi-backend's response validator).
//
// A new operation needs a valid request in VALID (the test names the ones missing). The statuses
// that cannot be provoked from outside are listed in UNPROVOKED with the reason.

type Req = {
  /** Path parameters by name ({slug} defaults to the demo's). */
  path?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  json?: unknown;
  /** A form body (the Twilio webhooks), signed by `send`. */
  form?: Record<string, string>;
  /** A body sent as is. */
  raw?: { body: string; contentType: string };
  /** Who calls a bearer operation (default: a role its action allows); null: no token. */
  role?: Role | null;
  /** A bearer token of another tenant's user (instead of `role`). */
  token?: string;
  /** A customer's portal token (the portal routes' credential). */
  portal?: string;
  /** The status this request must get (default: any 2xx the document declares). */
  status?: number;
};

type Answer = { status: number; headers: Record<string, unknown>; body: string };

type Ctx = {
  tenantId: string;
  /** A resource open around the clock, for holds and appointments. */
  resourceId: string;
  /** The demo's resource, whose Google calendar is connected. */
  calendarResourceId: string;
  serviceId: string;
  freshConversation(): Promise<string>;
  freshHold(): Promise<string>;
  freshAppointment(): Promise<string>;
  freshService(): Promise<string>;
  freshUser(): Promise<string>;
  freshResource(): Promise<string>;
  /** A tenant of its own whose only user is an OWNER: that user's id and token. */
  soleOwner(campaign?: 'approved' | 'pending'): Promise<{ id: string; token: string }>;
  /** An appointment that started an hour ago. */
  pastAppointment(): Promise<string>;
  /** A service's name (for a duplicate). */
  serviceName(id: string): Promise<string>;
  appointmentStart(id: string): Promise<string>;
  releasedHold(): Promise<string>;
  /** A tenant provisioned through the staff API (its id). */
  provisionedTenant(): Promise<string>;
  /** The code of a customer's link to a fresh appointment (cancelled first when asked). */
  portalCode(options?: { cancelled?: boolean }): Promise<string>;
  portalToken(options?: { cancelled?: boolean }): Promise<string>;
  /** A conversation whose caller opted out. */
  optedOutConversation(): Promise<string>;
  /** A public hold that too many wrong codes released. */
  exhaustedHold(): Promise<string>;
  alertId: string;
  outboundMessageId(): Promise<string>;
  slot(): string;
  window(): { from: string; to: string };
  consentCallback(): Promise<{ query: Record<string, string> }>;
  channelHeaders(): Promise<Record<string, string>>;
  linkedCalendars(): Promise<{ external_id: string; blocks_time: boolean; receives_bookings: boolean }[]>;
  streamToken(): Promise<string>;
};

const CALL_SID = () => `CA${randomUUID().replaceAll('-', '')}`;
const MESSAGE_SID = () => `SM${randomUUID().replaceAll('-', '')}`;
const twilioForm = (fields: Record<string, string>) => ({
  AccountSid: SANDBOX_ACCOUNT.accountSid,
  ...fields,
});
const PUBLIC_CUSTOMER = '+13105550177';
const HOLD_CODE = '424242';

/** One valid request per operation, by operationId. */
const VALID: Record<string, (ctx: Ctx) => Req | Promise<Req>> = {
  getHealthz: () => ({}),
  getReadyz: () => ({}),
  getMetrics: () => ({}),
  getBuildinfo: () => ({}),
  receiveTwilioVoice: () => ({
    form: twilioForm({ CallSid: CALL_SID(), From: '+13105550181', To: DEMO.twilio_number }),
  }),
  receiveTwilioVoiceScreen: () => ({ form: twilioForm({ ParentCallSid: CALL_SID() }) }),
  receiveTwilioVoiceScreenResult: () => ({ form: twilioForm({ ParentCallSid: CALL_SID(), Digits: '1' }) }),
  receiveTwilioVoiceDialStatus: () => ({
    form: twilioForm({
      CallSid: CALL_SID(),
      From: '+13105550183',
      To: DEMO.twilio_number,
      DialCallStatus: 'busy',
    }),
  }),
  receiveTwilioSms: () => ({
    form: twilioForm({ MessageSid: MESSAGE_SID(), From: '+13105550184', To: DEMO.twilio_number, Body: 'Hi' }),
  }),
  receiveTwilioSmsStatus: async (ctx) => ({
    query: { tenant: ctx.tenantId, message: await ctx.outboundMessageId() },
    form: twilioForm({ MessageSid: MESSAGE_SID(), MessageStatus: 'delivered' }),
  }),
  listConversations: () => ({ query: { limit: '5' } }),
  getConversation: async (ctx) => ({ path: { id: await ctx.freshConversation() } }),
  takeoverConversation: async (ctx) => ({ path: { id: await ctx.freshConversation() } }),
  releaseConversation: async (ctx) => ({ path: { id: await ctx.freshConversation() } }),
  closeConversation: async (ctx) => ({ path: { id: await ctx.freshConversation() } }),
  sendConversationMessage: async (ctx) => ({
    path: { id: await ctx.freshConversation() },
    json: { body: 'We can come by at 3 pm.' },
  }),
  listUsers: () => ({}),
  createUser: () => ({ json: { email: `contract-${randomUUID()}@example.com`, role: 'TECH' } }),
  updateUser: async (ctx) => ({ path: { id: await ctx.freshUser() }, json: { role: 'OWNER' } }),
  deleteUser: async (ctx) => ({ path: { id: await ctx.freshUser() } }),
  listAlerts: () => ({ query: { state: 'open' } }),
  ackAlert: (ctx) => ({ path: { id: ctx.alertId } }),
  getMyAlertSettings: () => ({}),
  setMyAlertSettings: () => ({ json: { phone: '+13105550142', alerts_enabled: true, quiet_hours: null } }),
  getUserAlertSettings: async (ctx) => ({ path: { id: await ctx.freshUser() } }),
  setUserAlertSettings: async (ctx) => ({
    path: { id: await ctx.freshUser() },
    json: { phone: '+13105550143', alerts_enabled: true, quiet_hours: { start: '22:00', end: '07:00' } },
  }),
  listServices: () => ({}),
  createService: () => ({
    json: {
      name: `Contract ${randomUUID()}`,
      duration_minutes: 30,
      price: { amount_cents: 5000, currency: 'USD' },
    },
  }),
  updateService: async (ctx) => ({ path: { id: await ctx.freshService() }, json: { aliases: ['contract'] } }),
  deleteService: async (ctx) => ({ path: { id: await ctx.freshService() } }),
  getCompliance: () => ({}),
  // A tenant whose campaign is still pending: the registration can change.
  setComplianceRegistration: async (ctx) => ({
    json: REGISTRATION,
    token: (await ctx.soleOwner('pending')).token,
  }),
  listComplianceOptOuts: () => ({}),
  exportOptOutsCsv: () => ({}),
  listTenants: () => ({}),
  listPendingRegistrations: () => ({}),
  reviewRegistration: (ctx) => ({ path: { tenantId: ctx.tenantId }, json: { status: 'approved' } }),
  listDeadLetters: () => ({}),
  replayDeadLetters: () => ({ json: { all: true } }),
  listResources: () => ({}),
  createResource: () => ({ json: { name: 'Contract van', time_zone: 'America/New_York' } }),
  updateResource: (ctx) => ({ path: { id: ctx.resourceId }, json: { name: 'Main crew' } }),
  listResourceExceptions: (ctx) => ({
    path: { id: ctx.resourceId },
    query: { from: '2031-01-01', to: '2031-01-31' },
  }),
  setResourceException: (ctx) => ({
    path: { id: ctx.resourceId, date: '2031-01-02' },
    json: { intervals: [] },
  }),
  deleteResourceException: (ctx) => ({ path: { id: ctx.resourceId, date: '2031-01-02' } }),
  getAvailability: (ctx) => ({ query: { service_id: ctx.serviceId, ...ctx.window() } }),
  createHold: (ctx) => ({
    json: { service_id: ctx.serviceId, resource_id: ctx.resourceId, start: ctx.slot() },
  }),
  confirmHold: async (ctx) => ({ path: { id: await ctx.freshHold() } }),
  deleteHold: async (ctx) => ({ path: { id: await ctx.freshHold() } }),
  listAppointments: (ctx) => ({ query: ctx.window() }),
  listHolds: (ctx) => ({ query: ctx.window() }),
  cancelAppointment: async (ctx) => ({ path: { id: await ctx.freshAppointment() } }),
  rescheduleAppointment: async (ctx) => ({
    path: { id: await ctx.freshAppointment() },
    json: { start: ctx.slot() },
  }),
  outcomeAppointment: async (ctx) => ({
    path: { id: await ctx.pastAppointment() },
    json: { outcome: 'completed' },
  }),
  getFunnelReport: () => ({ query: { group: 'week' } }),
  getFunnelReportCsv: () => ({}),
  getFirstResponseReport: () => ({ headers: { accept: 'text/csv' } }),
  getFirstResponseReportCsv: () => ({}),
  listPublicServices: () => ({}),
  getPublicAvailability: (ctx) => ({ query: { service_id: ctx.serviceId, ...ctx.window() } }),
  createPublicHold: (ctx) => ({
    json: {
      service_id: ctx.serviceId,
      resource_id: ctx.resourceId,
      start: ctx.slot(),
      customer: { name: 'Contract Customer', phone: PUBLIC_CUSTOMER },
    },
  }),
  deletePublicHold: async (ctx) => ({ path: { id: await ctx.freshHold() } }),
  createPublicBooking: async (ctx) => ({ json: { hold_id: await ctx.freshHold(), code: HOLD_CODE } }),
  createStreamToken: () => ({}),
  openStream: async (ctx) => ({ query: { stoken: await ctx.streamToken() } }),
  receiveStripeEvent: () => ({
    raw: {
      // An event of a type the server does not act on: read, acknowledged, nothing changed.
      body: JSON.stringify({
        id: `evt_${randomUUID().replaceAll('-', '')}`,
        object: 'event',
        type: 'charge.succeeded',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: 'ch_contract', object: 'charge' } },
      }),
      contentType: 'application/json',
    },
  }),
  getBilling: () => ({}),
  createCheckoutSession: () => ({ json: { plan: 'pro' } }),
  // Onboarding: the admin of a new organisation (no tenant), its draft as far as each route needs.
  getOnboarding: () => ({}),
  saveOnboarding: async () => ({
    role: 'OWNER',
    token: (await onboarder('none')).token,
    json: {
      name: 'Contract Onboarding',
      slug: `contract-onb-${randomUUID().slice(0, 8)}`,
      time_zone: 'America/Denver',
    },
  }),
  sendOnboardingCode: async () => ({
    role: 'OWNER',
    token: (await onboarder('draft')).token,
    json: { phone: '+13035550142' },
  }),
  verifyOnboardingPhone: async () => {
    const o = await onboarder('code');
    return { role: 'OWNER', token: o.token, json: { code: o.code } };
  },
  listOnboardingNumbers: async () => ({
    role: 'OWNER',
    token: (await onboarder('none')).token,
    query: { area_code: '303' },
  }),
  startOnboardingCheckout: async () => ({
    role: 'OWNER',
    token: (await onboarder('verified')).token,
    json: { plan: 'starter' },
  }),
  createPortalSession: () => ({ json: {} }),
  getResourceCalendarConnect: (ctx) => ({
    path: { id: ctx.calendarResourceId },
    query: { redirect: 'false' },
  }),
  getCalendarOauthCallback: async (ctx) => ctx.consentCallback(),
  getResourceCalendar: (ctx) => ({ path: { id: ctx.calendarResourceId } }),
  deleteResourceCalendar: (ctx) => ({ path: { id: ctx.calendarResourceId } }),
  // The calendars as they are: the connection keeps its channel for the push webhook below.
  setResourceCalendarCalendars: async (ctx) => ({
    path: { id: ctx.calendarResourceId },
    json: { calendars: await ctx.linkedCalendars() },
  }),
  backfillResourceCalendar: (ctx) => ({ path: { id: ctx.calendarResourceId } }),
  reconcileResourceCalendar: (ctx) => ({ path: { id: ctx.calendarResourceId } }),
  listCalendars: () => ({}),
  listCalendarConflicts: () => ({}),
  getCalendarBusy: (ctx) => ({ query: ctx.window() }),
  receiveGoogleCalendar: async (ctx) => ({ headers: await ctx.channelHeaders() }),
  receiveJobberWebhook: () => ({
    raw: {
      // A topic the server does not act on: checked, read, acknowledged, nothing changed.
      body: JSON.stringify({
        data: {
          webHookEvent: {
            topic: 'CLIENT_CREATE',
            appId: 'contract-app',
            accountId: 'Z2lkOi8vSm9iYmVyL0FjY291bnQvOTk5',
            itemId: 'Z2lkOi8vSm9iYmVyL0NsaWVudC8x',
            occurredAt: new Date().toISOString(),
          },
        },
      }),
      contentType: 'application/json',
    },
  }),
  createResourceCalendarSandboxEvent: (ctx) => {
    const start = Date.now() + 40 * 86_400_000;
    return {
      path: { id: ctx.calendarResourceId },
      json: { start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString() },
    };
  },
  getSettingsMessaging: () => ({}),
  // Public booking stays on: the public routes above are called with the demo's slug.
  updateSettingsMessaging: () => ({ json: { greeting: null, public_booking_enabled: true } }),
  listTeammates: () => ({}),
  assignConversation: async (ctx) => ({
    path: { id: await ctx.freshConversation() },
    json: { user_id: await ctx.freshUser() },
  }),
  listConversationNotes: async (ctx) => ({ path: { id: await ctx.freshConversation() } }),
  createConversationNote: async (ctx) => ({
    path: { id: await ctx.freshConversation() },
    json: { body: 'Prefers mornings.' },
  }),
  listQuickReplies: () => ({}),
  setQuickReplies: () => ({ json: { items: [{ title: 'On our way', body: 'We are on our way.' }] } }),
  provisionTenant: () => {
    const short = randomUUID().slice(0, 8);
    return {
      json: {
        slug: `contract-${short}`,
        name: 'Contract Plumbing',
        time_zone: 'America/Denver',
        auth_org_id: `org_contract_${short}`,
        forwarding_phone: '+13105550190',
      },
    };
  },
  getTenantProvisioning: async (ctx) => ({ path: { tenantId: await ctx.provisionedTenant() } }),
  changeTenantDesiredState: async (ctx) => ({
    path: { tenantId: await ctx.provisionedTenant() },
    json: { name: 'Contract Plumbing & Heating' },
  }),
  convergeTenant: async (ctx) => ({ path: { tenantId: await ctx.provisionedTenant() } }),
  closeTenant: async (ctx) => ({ path: { tenantId: await ctx.provisionedTenant() } }),
  getTenantExport: async (ctx) => ({ path: { tenantId: await ctx.provisionedTenant() } }),
  listDrift: () => ({}),
  listFailedProvisioningSteps: () => ({}),
  backfillTenant: async (ctx) => ({ path: { tenantId: await ctx.provisionedTenant() } }),
  reconcile: () => ({ json: { dry_run: true } }),
  openPortalSession: async (ctx) => ({ json: { code: await ctx.portalCode() } }),
  getPortalBooking: async (ctx) => ({ portal: await ctx.portalToken() }),
  listPortalBookings: async (ctx) => ({ portal: await ctx.portalToken() }),
  listPortalBookingTimes: async (ctx) => ({ portal: await ctx.portalToken(), query: ctx.window() }),
  cancelPortalBooking: async (ctx) => ({ portal: await ctx.portalToken() }),
  reschedulePortalBooking: async (ctx) => ({ portal: await ctx.portalToken(), json: { start: ctx.slot() } }),
};

/** Declared statuses no request from outside can provoke, and why. */
const UNPROVOKED: Record<string, string> = {
  '500': 'an unexpected failure or a response that breaks its own schema: a bug, not an input',
};
/** Per operation, declared statuses this test does not provoke, with the reason. */
const UNPROVOKED_FOR: Record<string, Record<string, string>> = {
  receiveTwilioVoiceScreen: { '503': 'the whisper is TwiML built from the request alone: no database read' },
  sendOnboardingCode: {
    '422':
      'the valid request just texted this phone: a repeat within 30 s is the resend cooldown (429), which is never stored, so the key is never seen reused',
  },
  receiveGoogleCalendar: { '415': "reads any body (Google's pushes carry none in a type of their choosing)" },
  ...Object.fromEntries(
    [
      'getPortalBooking',
      'listPortalBookings',
      'listPortalBookingTimes',
      'cancelPortalBooking',
      'reschedulePortalBooking',
    ].map((id) => [
      id,
      {
        '404':
          "a booking deleted under a customer's live token (its business closed): not reachable from outside",
      },
    ]),
  ),
  listPublicServices: {
    '400': 'the slug is looked up before the schema reads it: a malformed slug is 404, like an unknown one',
  },
  sendConversationMessage: {
    '200': 'a text suppressed after the opt-out check (STOP arriving in between): a race, not an input',
  },
};

/**
 * More requests for statuses the generic provocations cannot reach: a state the operation refuses
 * (409) or a reference in the body or query to nothing (404). Each names the status it must get.
 */
const EXTRA: Record<string, (ctx: Ctx) => Promise<Req[]>> = {
  sendConversationMessage: async (ctx) => [
    { path: { id: await ctx.optedOutConversation() }, json: { body: 'Hello?' }, status: 409 },
  ],
  // A second invitation for the same email.
  createUser: async () => {
    const email = `contract-twice-${randomUUID()}@example.com`;
    return [
      { json: { email, role: 'TECH' }, status: 201 },
      { json: { email, role: 'OWNER' }, status: 409 },
    ];
  },
  updateUser: async (ctx) => {
    const owner = await ctx.soleOwner();
    return [{ path: { id: owner.id }, token: owner.token, json: { role: 'TECH' }, status: 409 }];
  },
  deleteUser: async (ctx) => {
    const owner = await ctx.soleOwner();
    return [{ path: { id: owner.id }, token: owner.token, status: 409 }];
  },
  createService: async (ctx) => [
    {
      json: {
        name: await ctx.serviceName(await ctx.freshService()),
        duration_minutes: 30,
        price: { amount_cents: 100, currency: 'USD' },
      },
      status: 409,
    },
  ],
  updateService: async (ctx) => [
    {
      path: { id: await ctx.freshService() },
      json: { name: await ctx.serviceName(await ctx.freshService()) },
      status: 409,
    },
  ],
  getAvailability: async (ctx) => [{ query: { service_id: randomUUID(), ...ctx.window() }, status: 404 }],
  createHold: async (ctx) => [
    {
      json: {
        service_id: ctx.serviceId,
        resource_id: ctx.resourceId,
        start: await ctx.appointmentStart(await ctx.freshAppointment()),
      },
      status: 409,
    },
    { json: { service_id: randomUUID(), resource_id: ctx.resourceId, start: ctx.slot() }, status: 404 },
  ],
  confirmHold: async (ctx) => [{ path: { id: await ctx.releasedHold() }, status: 409 }],
  deleteHold: async (ctx) => [{ path: { id: await ctx.freshAppointment() }, status: 409 }],
  rescheduleAppointment: async (ctx) => [
    {
      path: { id: await ctx.freshAppointment() },
      json: { start: await ctx.appointmentStart(await ctx.freshAppointment()) },
      status: 409,
    },
  ],
  createPublicHold: async (ctx) => [
    {
      json: {
        service_id: ctx.serviceId,
        resource_id: ctx.resourceId,
        start: await ctx.appointmentStart(await ctx.freshAppointment()),
        customer: { name: 'Contract Customer', phone: '+13105550178' },
      },
      status: 409,
    },
  ],
  deletePublicHold: async (ctx) => [{ path: { id: await ctx.freshAppointment() }, status: 409 }],
  // The demo's campaign is approved: a new registration goes through support.
  setComplianceRegistration: async () => [{ json: REGISTRATION, status: 409 }],
  // An appointment that has not started has no outcome yet.
  outcomeAppointment: async (ctx) => [
    { path: { id: await ctx.freshAppointment() }, json: { outcome: 'completed' }, status: 409 },
  ],
  createPublicBooking: async (ctx) => [
    { json: { hold_id: await ctx.exhaustedHold(), code: '000000' }, status: 409 },
  ],
  assignConversation: async (ctx) => {
    const id = await ctx.freshConversation();
    await app.inject({
      method: 'POST',
      url: `/api/v1/conversations/${id}/close`,
      headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
    });
    return [{ path: { id }, json: { user_id: await ctx.freshUser() }, status: 409 }];
  },
  saveOnboarding: async () => [
    { role: 'OWNER', token: (await onboarder('none')).token, json: { slug: DEMO.slug }, status: 409 },
  ],
  sendOnboardingCode: async () => [
    // No draft yet.
    { role: 'OWNER', token: (await onboarder('none')).token, json: { phone: '+13035550143' }, status: 409 },
  ],
  verifyOnboardingPhone: async () => {
    const expired = await onboarder('code');
    await f.t.system.db.query(
      "UPDATE prov_onboarding_drafts SET code_expires_at = now() - interval '1 second' WHERE started_by = $1",
      [expired.subject],
    );
    const wrong = await onboarder('code');
    return [
      { role: 'OWNER', token: (await onboarder('draft')).token, json: { code: '123456' }, status: 409 },
      { role: 'OWNER', token: expired.token, json: { code: expired.code }, status: 410 },
      {
        role: 'OWNER',
        token: wrong.token,
        json: { code: wrong.code === '000000' ? '000001' : '000000' },
        status: 422,
      },
    ];
  },
  startOnboardingCheckout: async () => [
    { role: 'OWNER', token: (await onboarder('none')).token, json: { plan: 'starter' }, status: 409 },
    // The forwarding phone is not verified.
    { role: 'OWNER', token: (await onboarder('draft')).token, json: { plan: 'starter' }, status: 422 },
  ],
  // The demo's organisation has its tenant already; the demo tenant was not provisioned by the staff API.
  provisionTenant: async () => [
    {
      json: {
        slug: `contract-${randomUUID().slice(0, 8)}`,
        name: 'Second Demo',
        time_zone: 'America/Denver',
        auth_org_id: DEMO.auth_org_id,
        forwarding_phone: '+13105550192',
      },
      status: 409,
    },
  ],
  changeTenantDesiredState: async (ctx) => [
    { path: { tenantId: ctx.tenantId }, json: { name: 'Renamed' }, status: 409 },
  ],
  convergeTenant: async (ctx) => [{ path: { tenantId: ctx.tenantId }, status: 409 }],
  closeTenant: async (ctx) => [{ path: { tenantId: ctx.tenantId }, status: 409 }],
  openPortalSession: async (ctx) => [
    { json: { code: 'NoSuchLinkCode1' }, status: 404 },
    { json: { code: await ctx.portalCode({ cancelled: true }) }, status: 410 },
  ],
  getPortalBooking: async (ctx) => [{ portal: await ctx.portalToken({ cancelled: true }), status: 410 }],
  listPortalBookings: async (ctx) => [{ portal: await ctx.portalToken({ cancelled: true }), status: 410 }],
  listPortalBookingTimes: async (ctx) => [
    { portal: await ctx.portalToken({ cancelled: true }), query: ctx.window(), status: 410 },
  ],
  cancelPortalBooking: async (ctx) => [{ portal: await ctx.portalToken({ cancelled: true }), status: 410 }],
  reschedulePortalBooking: async (ctx) => [
    { portal: await ctx.portalToken({ cancelled: true }), json: { start: ctx.slot() }, status: 410 },
    {
      portal: await ctx.portalToken(),
      json: { start: await ctx.appointmentStart(await ctx.freshAppointment()) },
      status: 409,
    },
  ],
  createResourceCalendarSandboxEvent: async (ctx) => {
    const start = Date.now() + 41 * 86_400_000;
    return [
      {
        path: { id: await ctx.freshResource() },
        json: { start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString() },
        status: 409,
      },
    ];
  },
  // A resource with no calendar connected.
  setResourceCalendarCalendars: async (ctx) => [
    { path: { id: await ctx.freshResource() }, json: { calendars: [] }, status: 409 },
  ],
  backfillResourceCalendar: async (ctx) => [{ path: { id: await ctx.freshResource() }, status: 409 }],
  reconcileResourceCalendar: async (ctx) => [{ path: { id: await ctx.freshResource() }, status: 409 }],
};

function notProvokedReason(operationId: string, status: string): string | undefined {
  return UNPROVOKED_FOR[operationId]?.[status] ?? UNPROVOKED[status];
}

let f: CalendarFixture;
let app: App;
let limited: App;
let offline: App;
let deadPool: Pool;
let doc: OpenApiDocument;
let validator: OpenAPIBackend;
let ctx: Ctx;
const tokens = new Map<Role, string>();
const provoked = new Map<string, Set<string>>();
const failures: string[] = [];

function apiRouteOf(method: HttpMethod, path: string): { action: Action | null } | undefined {
  const url = path.replace(/\{([^}]+)\}/g, ':$1');
  return app.apiRoutes.find((r) => r.method === method.toUpperCase() && r.url === url);
}

/** A signed-in admin of a new organisation (no tenant yet), its onboarding draft taken as far as asked. */
async function onboarder(
  stage: 'none' | 'draft' | 'code' | 'verified',
): Promise<{ token: string; subject: string; code: string }> {
  const short = randomUUID().slice(0, 8);
  const subject = `contract_onb_${short}`;
  const token = await tokenFor(f.t.system, { subject, role: 'OWNER', org: `org_contract_onb_${short}` });
  const send = (method: 'PUT' | 'POST', url: string, payload: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
  if (stage === 'none') return { token, subject, code: '' };
  await send('PUT', '/api/v1/onboarding', {
    name: 'Contract Onboarding',
    slug: `contract-onb-${short}`,
    time_zone: 'America/Denver',
  });
  if (stage === 'draft') return { token, subject, code: '' };
  const phone = `+1720555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  await send('POST', '/api/v1/onboarding/phone/code', { phone });
  const texted = f.t.sandbox
    .messages()
    .filter((m) => m.to === phone)
    .at(-1);
  const code = /\b(\d{6})\b/.exec(texted?.body ?? '')?.[1];
  if (!code) throw new Error(`no verification code texted to ${phone}`);
  if (stage === 'verified') await send('POST', '/api/v1/onboarding/phone/verify', { code });
  return { token, subject, code };
}

function allowedRole(action: Action | null): Role {
  const role = (['OWNER', 'TECH', 'STAFF'] as const).find((r) => action !== null && can(r, action));
  if (!role) throw new Error(`no role may ${action}`);
  return role;
}

function refusedRole(action: Action | null): Role | null {
  return (['TECH', 'STAFF', 'OWNER'] as const).find((r) => action !== null && !can(r, action)) ?? null;
}

function schemes(operation: OperationObject): string[] {
  return (operation.security ?? []).flatMap(Object.keys);
}

async function send(target: App, method: HttpMethod, path: string, operation: OperationObject, req: Req) {
  let url = path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    encodeURIComponent(req.path?.[name] ?? (name === 'slug' ? DEMO.slug : `missing-${name}`)),
  );
  const query = new URLSearchParams(req.query ?? {}).toString();
  if (query) url = `${url}?${query}`;
  const headers: Record<string, string> = { ...req.headers };
  let payload: string | undefined;
  if (req.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    payload = JSON.stringify(req.json);
  }
  if (req.raw) {
    headers['content-type'] = req.raw.contentType;
    payload = req.raw.body;
  }
  if (req.form) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    payload ??= new URLSearchParams(req.form).toString();
    if (schemes(operation).includes('twilioSignature') && headers['x-twilio-signature'] === undefined)
      headers['x-twilio-signature'] = signTwilioRequest(
        SANDBOX_ACCOUNT.authToken,
        `${f.t.system.config.PUBLIC_BASE_URL}${url}`,
        req.form,
      );
  }
  if (schemes(operation).includes('stripeSignature') && headers['stripe-signature'] === undefined) {
    const secret = stripeAccountFrom(f.t.system.config).webhookSecret;
    const stamp = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', secret)
      .update(`${stamp}.${payload ?? ''}`)
      .digest('hex');
    headers['stripe-signature'] = `t=${stamp},v1=${v1}`;
  }
  if (schemes(operation).includes('jobberSignature') && headers['x-jobber-hmac-sha256'] === undefined)
    headers['x-jobber-hmac-sha256'] = jobberSignature(
      jobberAccountFrom(f.t.system.config).clientSecret,
      payload ?? '',
    );
  if (schemes(operation).includes('portalToken') && req.portal)
    headers.authorization = `Bearer ${req.portal}`;
  if (schemes(operation).includes('bearer') && req.role !== null) {
    const role = req.role ?? allowedRole(apiRouteOf(method, path)?.action ?? null);
    headers.authorization = `Bearer ${req.token ?? tokens.get(role)}`;
  }
  if (schemes(operation).includes('streamToken') && method === 'get' && target === app && !req.status) {
    // A live stream never ends: read its head over HTTP, then hang up.
    const abort = new AbortController();
    const res = await fetch(`${f.t.baseUrl}${url}`, { headers, signal: abort.signal });
    const answer: Answer = {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: res.status === 200 ? '' : await res.text(),
    };
    abort.abort();
    return answer;
  }
  const res = await target.inject({
    method: method.toUpperCase() as 'GET',
    url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body } satisfies Answer;
}

function mediaMatches(declared: string, actual: string): boolean {
  const parts = (value: string) => value.split(';').map((p) => p.trim().toLowerCase().replace(/\s+/g, ''));
  const [declaredType, ...declaredParams] = parts(declared);
  const [actualType, ...actualParams] = parts(actual);
  return declaredType === actualType && declaredParams.every((p) => actualParams.includes(p));
}

/** The answer against the document: a declared status, a declared content type, a body that validates. */
function checkAnswer(operation: OperationObject, label: string, answer: Answer): string | null {
  const id = operation.operationId ?? '';
  const declared = operation.responses[String(answer.status)];
  if (!declared) return `${label}: ${answer.status} is not declared (${answer.body.slice(0, 200)})`;
  const contentType = String(answer.headers['content-type'] ?? '');
  const media = Object.keys(declared.content ?? {});
  if (media.length === 0) {
    if (answer.body !== '')
      return `${label}: ${answer.status} declares no body but got ${answer.body.slice(0, 100)}`;
    return null;
  }
  const matched = media.find((m) => mediaMatches(m, contentType));
  if (!matched) return `${label}: content type ${contentType} is not one of ${media.join(', ')}`;
  if (matched !== 'application/json') return null;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `${label}: the body is not JSON: ${answer.body.slice(0, 100)}`;
  }
  const result = validator.validateResponse(body, id, answer.status);
  if (!result.valid)
    return `${label}: the body breaks the ${answer.status} schema: ${JSON.stringify(result.errors).slice(0, 600)} in ${answer.body.slice(0, 300)}`;
  return null;
}

type Attempt = { status: number; target: App; req: Req; then?: Req };

/** One request per declared error status that can be provoked, built from the valid one. */
function attemptsFor(method: HttpMethod, path: string, operation: OperationObject, valid: Req): Attempt[] {
  const attempts: Attempt[] = [];
  const declared = new Set(Object.keys(operation.responses));
  const params = operation.parameters ?? [];
  const uuidParam = params.find((p) => p.in === 'path' && p.schema?.format === 'uuid');
  const slugParam =
    params.find((p) => p.in === 'path' && p.name === 'slug') ??
    (path.includes('{slug}') ? { name: 'slug' } : undefined);
  const requiredQuery = params.find((p) => p.in === 'query' && p.required);
  const jsonBody = operation.requestBody?.content['application/json'] !== undefined;
  const security = schemes(operation);
  const action = apiRouteOf(method, path)?.action ?? null;
  const add = (status: number, req: Req, target: App = app, then?: Req) => {
    if (declared.has(String(status))) attempts.push({ status, target, req, ...(then ? { then } : {}) });
  };

  // 400: an input the schema refuses.
  if (uuidParam) add(400, { ...valid, path: { ...valid.path, [uuidParam.name]: 'not-a-uuid' } });
  else if (requiredQuery) {
    const { [requiredQuery.name]: _, ...rest } = valid.query ?? {};
    add(400, { ...valid, query: rest });
  } else if (jsonBody)
    add(400, { ...valid, json: undefined, raw: { body: '{"', contentType: 'application/json' } });
  else if (valid.form) add(400, { ...valid, form: { ...valid.form, From: 'x'.repeat(65) } });
  else if (slugParam) add(400, { ...valid, path: { ...valid.path, slug: 'Not A Slug!' } });
  else if (params.some((p) => p.in === 'query' && p.schema?.type === 'integer'))
    add(400, { ...valid, query: { ...valid.query, limit: 'many' } });
  else if (params.some((p) => p.in === 'query' && Array.isArray(p.schema?.enum))) {
    const name = params.find((p) => p.in === 'query' && Array.isArray(p.schema?.enum))?.name ?? '';
    add(400, { ...valid, query: { ...valid.query, [name]: 'no-such-value' } });
  } else if (params.some((p) => p.in === 'query' && typeof p.schema?.pattern === 'string')) {
    const name = params.find((p) => p.in === 'query' && typeof p.schema?.pattern === 'string')?.name ?? '';
    add(400, { ...valid, query: { ...valid.query, [name]: '!' } });
  } else if (params.some((p) => p.in === 'header' && typeof p.schema?.maxLength === 'number')) {
    const header = params.find((p) => p.in === 'header' && typeof p.schema?.maxLength === 'number');
    const name = header?.name ?? '';
    add(400, {
      ...valid,
      headers: { ...valid.headers, [name]: 'x'.repeat(Number(header?.schema?.maxLength) + 1) },
    });
  } else if (['post', 'put', 'patch'].includes(method))
    add(400, { ...valid, headers: { ...valid.headers, 'x-idempotency-key': 'k'.repeat(201) } });

  // 401: no credential.
  if (security.includes('bearer')) add(401, { ...valid, role: null, token: undefined });
  if (security.includes('portalToken')) add(401, { ...valid, portal: 'forged.portal.token' });
  if (security.includes('streamToken'))
    add(401, { ...valid, query: { ...valid.query, stoken: 's'.repeat(43) } });

  // 403: a role the action is not granted to, or a webhook without its signature.
  if (security.includes('bearer')) {
    const refused = refusedRole(action);
    if (refused) add(403, { ...valid, role: refused, token: undefined });
  }
  if (security.includes('twilioSignature'))
    add(403, { ...valid, headers: { 'x-twilio-signature': 'forged' } });
  if (security.includes('stripeSignature'))
    add(403, { ...valid, headers: { 'stripe-signature': 't=1,v1=forged' } });
  if (security.includes('jobberSignature'))
    add(403, { ...valid, headers: { ...valid.headers, 'x-jobber-hmac-sha256': 'forged' } });
  if (security.includes('googleChannelToken'))
    add(403, { ...valid, headers: { ...valid.headers, 'x-goog-channel-token': 'forged' } });

  // 404: an id (or slug) that names nothing.
  if (uuidParam) add(404, { ...valid, path: { ...valid.path, [uuidParam.name]: randomUUID() } });
  else if (slugParam) add(404, { ...valid, path: { ...valid.path, slug: 'no-such-business' } });

  // 413 and 415: a body too large, or of a type the operation does not read.
  const big = JSON.stringify({ padding: 'x'.repeat(300 * 1024) });
  add(413, {
    ...valid,
    json: undefined,
    form: undefined,
    raw: { body: big, contentType: 'application/json' },
  });
  // (Fastify reads text/plain for every route: such a body is refused by the route's schema, 400.)
  add(415, {
    ...valid,
    json: undefined,
    form: undefined,
    raw: { body: '<x/>', contentType: 'application/xml' },
  });

  // 422: the same X-Idempotency-Key with another request (an unknown id, or another query).
  const key = { 'x-idempotency-key': `contract-${randomUUID()}` };
  if (uuidParam)
    add(
      422,
      {
        ...valid,
        headers: { ...valid.headers, ...key },
        path: { ...valid.path, [uuidParam.name]: randomUUID() },
      },
      app,
      {
        ...valid,
        headers: { ...valid.headers, ...key },
        path: { ...valid.path, [uuidParam.name]: randomUUID() },
      },
    );
  else
    add(422, { ...valid, headers: { ...valid.headers, ...key } }, app, {
      ...valid,
      headers: { ...valid.headers, ...key },
      query: { ...valid.query, contract_variant: '1' },
    });

  // 429: an app that allows one request a minute; 503: an app whose database is gone.
  add(429, valid, limited, valid);
  add(503, { ...valid, status: 503 }, offline);
  return attempts;
}

beforeAll(async () => {
  f = await startCalendarFixture({ RATE_LIMIT_PER_MINUTE: '1000000' });
  app = appOf(f.t.system);
  doc = app.swagger() as unknown as OpenApiDocument;
  validator = new OpenAPIBackend({
    definition: structuredClone(doc) as never,
    quick: false,
    validate: true,
    // The formats the document uses (uuid, date-time, date, uri, email) are checked, not ignored.
    customizeAjv: (ajv) => {
      ajvFormats.default(ajv);
      return ajv;
    },
  });
  await validator.init();
  for (const role of ['OWNER', 'TECH', 'STAFF'] as const)
    tokens.set(
      role,
      await tokenFor(f.t.system, { subject: `contract_${role.toLowerCase()}`, role, org: DEMO.auth_org_id }),
    );

  const config = f.t.system.config;
  const twilio = { authToken: SANDBOX_ACCOUNT.authToken, accountSid: SANDBOX_ACCOUNT.accountSid };
  limited = (
    await buildTestApp(f.t.system.db, {
      config: { ...config, RATE_LIMIT_PER_MINUTE: 1 },
      auth: await createOperatorAuth(config),
      twilio,
    })
  ).app;
  deadPool = createPool('postgres://nmc@127.0.0.1:1/none', { max: 2 });
  offline = (
    await buildTestApp(deadPool, {
      config,
      auth: await createOperatorAuth(config),
      twilio,
      ...(f.t.system.calendar ? { calendar: { ...f.t.system.calendar, db: deadPool } } : {}),
    })
  ).app;
  await Promise.all([limited.ready(), offline.ready()]);

  const db = f.t.system.db;
  const tenantId = f.t.demo.id;
  const calendarResourceId = demoRowId(tenantId, DEMO_RESOURCE.key);
  // A short service on a resource open around the clock: enough free times for every request here.
  const allDay = [{ start: '00:00', end: '24:00' }];
  const resourceId = (
    await createResource(db, tenantId, {
      name: 'Contract crew',
      time_zone: 'UTC',
      weekly_hours: { 1: allDay, 2: allDay, 3: allDay, 4: allDay, 5: allDay, 6: allDay, 7: allDay },
    })
  ).id;
  const serviceId = (
    await createService(db, tenantId, {
      name: 'Contract visit',
      duration_minutes: 30,
      price: { amount_cents: 4900, currency: 'USD' },
    })
  ).id;
  const settings = await loadSchedulingSettings(db, tenantId, { holdTtlMinutes: 15 });
  // Free starts over the coming weeks, an hour apart: a hold on one never overlaps the next.
  const slots: string[] = [];
  for (let week = 0; week < 2; week++) {
    const found = await findAvailability(db, {
      tenantId,
      serviceId,
      resourceId,
      from: new Date(Date.now() + (2 + 7 * week) * 86_400_000).toISOString(),
      to: new Date(Date.now() + (9 + 7 * week) * 86_400_000).toISOString(),
      now: new Date().toISOString(),
      settings,
    });
    for (const { start } of found.items) {
      const last = slots.at(-1);
      if (!last || Date.parse(start) - Date.parse(last) >= 3_600_000) slots.push(start);
    }
  }
  const slot = () => {
    const next = slots.shift();
    if (!next) throw new Error('no free slots left');
    return next;
  };
  const freshHold = async () =>
    (
      await inTransaction(db, async (client) => {
        const placed = await placeHold(client, {
          tenantId,
          serviceId,
          resourceId,
          start: slot(),
          now: new Date().toISOString(),
          holdTtlMinutes: 15,
          boss: f.t.system.boss,
        });
        await insertBookingCode(client, {
          tenantId,
          holdId: placed.id,
          codeHash: hashBookingCode(placed.id, HOLD_CODE),
        });
        return placed;
      })
    ).id;
  let callers = 0;
  const freshConversation = () =>
    startConversation(f.t.system, tenantId, `+1310555${String(3000 + callers++)}`);
  const alertId = randomUUID();
  await insertAlert(db, {
    tenantId,
    id: alertId,
    conversationId: await freshConversation(),
    reason: 'handover_requested',
    urgent: false,
    sourceEventId: randomUUID(),
    at: new Date().toISOString(),
  });
  await f.connect();
  await f.google.settle();
  ctx = {
    tenantId,
    resourceId,
    calendarResourceId,
    serviceId,
    alertId,
    slot,
    freshConversation,
    freshHold,
    async freshAppointment() {
      const holdId = await freshHold();
      return (
        await inTransaction(db, (client) =>
          confirmHold(client, { tenantId, holdId, now: new Date().toISOString() }),
        )
      ).id;
    },
    async freshService() {
      return (
        await createService(db, tenantId, {
          name: `Contract ${randomUUID()}`,
          duration_minutes: 30,
          price: { amount_cents: 9900, currency: 'USD' },
        })
      ).id;
    },
    async freshUser() {
      return (
        await upsertUserOnSight(db, {
          tenantId,
          subject: `contract_user_${randomUUID()}`,
          email: null,
          role: 'TECH',
        })
      ).id;
    },
    async outboundMessageId() {
      const { rows } = await db.query<{ id: string }>(
        "SELECT id FROM conv_messages WHERE tenant_id = $1 AND direction = 'out' LIMIT 1",
        [tenantId],
      );
      if (!rows[0]) throw new Error('no outbound message yet');
      return rows[0].id;
    },
    async freshResource() {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/resources',
        headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
        payload: { name: `Contract crew ${randomUUID()}`, time_zone: 'America/Chicago' },
      });
      return res.json<{ id: string }>().id;
    },
    async soleOwner(campaign = 'approved') {
      const org = `org_contract_${randomUUID().slice(0, 8)}`;
      await seedTenant(db, { auth_org_id: org, campaign });
      const token = await tokenFor(f.t.system, { subject: `sole_${org}`, role: 'OWNER', org });
      // Seen on its first request, the user exists from then on.
      const users = await app.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${token}` },
      });
      const id = users.json<{ items: { id: string }[] }>().items[0]?.id;
      if (!id) throw new Error(`no user for the sole owner: ${users.body}`);
      return { id, token };
    },
    async serviceName(id) {
      const { rows } = await db.query<{ name: string }>(
        'SELECT name FROM catalog_services WHERE tenant_id = $1 AND id = $2',
        [tenantId, id],
      );
      return rows[0]?.name ?? '';
    },
    async appointmentStart(id) {
      const { rows } = await db.query<{ start: Date }>(
        'SELECT lower(timeslot) AS start FROM sched_reservations WHERE tenant_id = $1 AND id = $2',
        [tenantId, id],
      );
      return rows[0]?.start.toISOString() ?? '';
    },
    async pastAppointment() {
      const id = await ctx.freshAppointment();
      await db.query(
        `UPDATE sched_reservations SET timeslot = tstzrange(now() - interval '90 minutes', now() - interval '30 minutes')
         WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      );
      return id;
    },
    async releasedHold() {
      const id = await freshHold();
      await app.inject({
        method: 'DELETE',
        url: `/api/v1/holds/${id}`,
        headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
      });
      return id;
    },
    async provisionedTenant() {
      const short = randomUUID().slice(0, 8);
      const res = await app.inject({
        method: 'POST',
        url: '/api/staff/tenants',
        headers: { authorization: `Bearer ${tokens.get('STAFF')}` },
        payload: {
          slug: `contract-${short}`,
          name: 'Contract Heating',
          time_zone: 'America/Denver',
          auth_org_id: `org_contract_${short}`,
          forwarding_phone: '+13105550191',
        },
      });
      const id = res.json<{ tenant?: { id: string } }>().tenant?.id;
      if (!id) throw new Error(`provisioning answered ${res.statusCode}: ${res.body}`);
      return id;
    },
    async portalCode(options = {}) {
      const appointmentId = await ctx.freshAppointment();
      const link = await portalLinks({ db, publicBaseUrl: config.PUBLIC_BASE_URL })({
        tenantId,
        appointmentId,
        phone: '+13105550179',
      });
      const code = link?.split('/p/')[1];
      if (!code) throw new Error('no portal link');
      if (options.cancelled)
        await app.inject({
          method: 'POST',
          url: `/api/v1/appointments/${appointmentId}/cancel`,
          headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
        });
      return code;
    },
    async portalToken(options = {}) {
      const code = await ctx.portalCode();
      const res = await app.inject({ method: 'POST', url: '/api/portal/sessions', payload: { code } });
      const token = res.json<{ token?: string }>().token;
      if (!token) throw new Error(`no portal session: ${res.body}`);
      if (options.cancelled)
        await app.inject({
          method: 'POST',
          url: '/api/portal/booking/cancel',
          headers: { authorization: `Bearer ${token}` },
        });
      return token;
    },
    async optedOutConversation() {
      const caller = `+1310555${String(4000 + callers++)}`;
      const id = await startConversation(f.t.system, tenantId, caller);
      await recordOptOut(db, tenantId, caller, 'keyword');
      return id;
    },
    async exhaustedHold() {
      const id = await freshHold();
      for (let i = 0; i < 10; i++) {
        const res = await app.inject({
          method: 'POST',
          url: `/api/public/${DEMO.slug}/bookings`,
          payload: { hold_id: id, code: '000000' },
        });
        if (res.statusCode === 409) break;
      }
      return id;
    },
    window: () => ({
      from: new Date(Date.now() + 86_400_000).toISOString(),
      to: new Date(Date.now() + 8 * 86_400_000).toISOString(),
    }),
    async consentCallback() {
      const started = await app.inject({
        method: 'GET',
        url: `/api/v1/resources/${calendarResourceId}/calendar/connect?redirect=false`,
        headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
      });
      const consent = await fetch(started.json<{ authorization_url: string }>().authorization_url, {
        redirect: 'manual',
      });
      const back = new URL(consent.headers.get('location') ?? '');
      return { query: Object.fromEntries(back.searchParams) };
    },
    async linkedCalendars() {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/resources/${calendarResourceId}/calendar`,
        headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
      });
      type Linked = { external_id: string; blocks_time: boolean; receives_bookings: boolean };
      const calendars =
        res.json<{ connection: { calendars: Linked[] } | null }>().connection?.calendars ?? [];
      return calendars.map(({ external_id, blocks_time, receives_bookings }) => ({
        external_id,
        blocks_time,
        receives_bookings,
      }));
    },
    async channelHeaders() {
      // A reconnection (the OAuth callback above) opens its channel after its first sync.
      const channel = await waitFor(async () => f.google.channels.liveChannels().at(-1), 10_000);
      return {
        'x-goog-channel-id': channel.id,
        'x-goog-channel-token': channel.token ?? '',
        'x-goog-resource-id': channel.resourceId,
        'x-goog-resource-state': 'exists',
        'x-goog-message-number': '1000',
      };
    },
    async streamToken() {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/stream-tokens',
        headers: { authorization: `Bearer ${tokens.get('OWNER')}` },
      });
      return res.json<{ stoken: string }>().stoken;
    },
  };
}, 120_000);

afterAll(async () => {
  await limited?.close();
  await offline?.close();
  await deadPool?.end();
  if (f) await settleOutbound(f.t);
  f?.t.system.app?.server.closeAllConnections();
  await f?.stop();
});

describe('the published contract', () => {
  it('has a valid request for every operation the document lists', () => {
    const missing = operationsOf(doc)
      .map(({ operation }) => operation.operationId ?? '')
      .filter((id) => !VALID[id]);
    expect(missing, 'add a valid request to VALID for these operations').toEqual([]);
    const stale = Object.keys(VALID).filter(
      (id) => !operationsOf(doc).some(({ operation }) => operation.operationId === id),
    );
    expect(stale, 'VALID names operations the document no longer has').toEqual([]);
  });

  it('answers every operation as documented: a valid request, and each provocable error status', async () => {
    // Deletions last: the operations before them may need what they delete (the calendar connection).
    const ordered = [...operationsOf(doc)].sort(
      (a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'),
    );
    for (const { method, path, operation } of ordered) {
      const id = operation.operationId ?? '';
      const build = VALID[id];
      if (!build) continue;
      const seen = new Set<string>();
      provoked.set(id, seen);
      const valid = await build(ctx);
      const answer = await send(app, method, path, operation, valid);
      const label = `${id} (${method.toUpperCase()} ${path}) valid`;
      const expected = valid.status;
      if (expected ? answer.status !== expected : answer.status < 200 || answer.status >= 300)
        failures.push(
          `${label}: expected ${expected ?? '2xx'}, got ${answer.status} ${answer.body.slice(0, 300)}`,
        );
      const wrong = checkAnswer(operation, label, answer);
      if (wrong) failures.push(wrong);
      seen.add(String(answer.status));

      const extra = (await EXTRA[id]?.(ctx)) ?? [];
      for (const req of extra) {
        const res = await send(app, method, path, operation, req);
        const extraLabel = `${id} (${method.toUpperCase()} ${path}) → ${req.status}`;
        if (res.status !== req.status)
          failures.push(`${extraLabel}: got ${res.status} ${res.body.slice(0, 300)}`);
        const broken = checkAnswer(operation, extraLabel, res);
        if (broken) failures.push(broken);
        else if (res.status === req.status) seen.add(String(res.status));
      }

      for (const attempt of attemptsFor(method, path, operation, valid)) {
        if (UNPROVOKED_FOR[id]?.[String(attempt.status)]) continue;
        const attemptLabel = `${id} (${method.toUpperCase()} ${path}) → ${attempt.status}`;
        let res = await send(attempt.target, method, path, operation, attempt.req);
        // The rate limit and the idempotency key need a second request (the limit: up to two more).
        for (
          let i = 0;
          attempt.then && res.status !== attempt.status && i < (attempt.status === 429 ? 2 : 1);
          i++
        )
          res = await send(attempt.target, method, path, operation, attempt.then);
        if (res.status !== attempt.status) {
          failures.push(`${attemptLabel}: got ${res.status} ${res.body.slice(0, 300)}`);
          continue;
        }
        const broken = checkAnswer(operation, attemptLabel, res);
        if (broken) failures.push(broken);
        else seen.add(String(res.status));
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('provokes every declared status but those listed as unprovokable, with their reason', () => {
    const unprovoked: string[] = [];
    for (const { operation } of operationsOf(doc)) {
      const id = operation.operationId ?? '';
      const seen = provoked.get(id) ?? new Set();
      for (const status of Object.keys(operation.responses))
        if (!seen.has(status) && !notProvokedReason(id, status)) unprovoked.push(`${id} ${status}`);
    }
    expect(unprovoked).toEqual([]);
  });
});
