import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import {
  findConnectionOfResource,
  listLinks,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import {
  listBusyBlocks,
  listOpenConflicts,
} from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { getResource } from '../../persistence/repositories/scheduling/resources.ts';
import type { ExternalCalendar } from '../../providers/calendar/provider.ts';
import { type CalendarDeps, providerOf } from '../../runtime/calendar/calendar-deps.ts';
import { calendarStatus, connectionView } from '../../runtime/calendar/calendar-status.ts';
import {
  completeConnect,
  disconnect,
  selectCalendars,
  startConnect,
} from '../../runtime/calendar/connect-calendar.ts';
import { providerFailure } from '../../runtime/calendar/provider-failure.ts';
import { reconcileCalendar } from '../../runtime/calendar/reconcile-calendar.ts';
import { syncCalendar } from '../../runtime/calendar/sync-calendar.ts';
import { openRefreshToken } from '../../runtime/calendar/token-vault.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { listingWindowOf, listingWindowQuery } from '../listing-window.ts';
import { encodeCursor, idParam, instant, listOf } from '../schemas.ts';

// Calendar connections (OWNER): connect a resource to the owner's Google Calendar (OAuth code +
// PKCE; the callback is public, the single-use state proves who asked), pick the calendars that
// block time and the one that receives bookings, disconnect, backfill and reconcile the mirror.
// Status and conflicts are readable by the whole team.

const calendarView = z
  .object({
    id: z.uuid().describe('Our id of the linked calendar'),
    external_id: z
      .string()
      .describe("The provider's calendar id (Google: the account's email for the primary)"),
    summary: z.string(),
    time_zone: z.string().describe('The calendar’s IANA time zone (all-day events are days there)'),
    blocks_time: z.boolean().describe('Its busy events hide times from availability'),
    receives_bookings: z.boolean().describe('Our appointments are written into it'),
    mode: z
      .enum(['push', 'poll', 'off'])
      .describe('How it is kept fresh now: push channel, polling, or not at all'),
    last_synced_at: instant.nullable(),
    last_full_sync_at: instant.nullable(),
    lag_seconds: z.number().int().nullable().describe('Seconds since the last sync'),
    last_push_at: instant.nullable(),
    channel_expires_at: instant.nullable(),
    sync_error: z.string().nullable(),
    mirrored_blocks: z.number().int().describe('Busy blocks of this calendar in the mirror'),
  })
  .meta({ id: 'LinkedCalendar' });

const connectionSchema = z
  .object({
    id: z.uuid(),
    resource_id: z.uuid(),
    provider: z.enum(['google', 'jobber']),
    account: z.string().describe("The account's primary calendar id"),
    status: z
      .enum(['active', 'unauthorized'])
      .describe('unauthorized: the account revoked access; connect again'),
    connected_at: instant,
    calendars: z.array(calendarView),
  })
  .meta({ id: 'CalendarConnection' });

const accountCalendar = z.object({
  external_id: z.string(),
  summary: z.string(),
  time_zone: z.string(),
  primary: z.boolean(),
  access_role: z.string(),
  blocks_time: z.boolean(),
  receives_bookings: z.boolean(),
});

const resourceCalendar = z
  .object({
    connection: connectionSchema.nullable().describe('Null when the resource has no calendar connected'),
    account_calendars: z.array(accountCalendar).describe("The account's calendars the owner may pick from"),
    sandbox: z
      .boolean()
      .describe('The Google Calendar sandbox runs here (never in production): sandbox-events adds busy time'),
  })
  .meta({ id: 'ResourceCalendar' });

const syncResult = z.object({
  calendar_id: z.uuid(),
  mode: z.enum(['full', 'incremental']),
  events: z.number().int(),
  busy: z.number().int(),
  pages: z.number().int(),
});

const reconciliation = z.object({
  calendar_id: z.uuid(),
  window: z.object({ from: instant, to: instant }),
  mirrored: z.number().int().describe('Busy blocks in the mirror within the window'),
  listed: z.number().int().describe('Busy blocks the provider lists now within the window'),
  drift: z.object({ missing: z.number().int(), extra: z.number().int(), moved: z.number().int() }),
  repaired: z.boolean(),
});

const conflictSchema = z
  .object({
    id: z.uuid(),
    appointment_id: z.uuid(),
    calendar_id: z.uuid(),
    appointment: z.object({ start: instant, end: instant }),
    busy: z.object({ start: instant, end: instant }).describe('The busy block in the owner’s calendar'),
    detected_at: instant,
  })
  .meta({ id: 'CalendarConflict' });

const busyBlockSchema = z
  .object({
    id: z.uuid(),
    resource_id: z.uuid(),
    calendar_id: z.uuid().nullable().describe('The linked calendar it was mirrored from'),
    source: z.enum(['google', 'jobber']),
    start: instant,
    end: instant,
  })
  .describe('Busy time in a connected calendar: only when, never what (no title, no attendees)')
  .meta({ id: 'BusyBlock' });

const daysField = z.coerce.number().int().min(1).max(365);

function calendarOf(deps: AppDeps): CalendarDeps {
  if (!deps.calendar) throw new AppError('unavailable', 'calendar connections are not configured');
  return deps.calendar;
}

async function knownResource(deps: AppDeps, tenantId: string, id: string) {
  const resource = await getResource(deps.db, tenantId, id);
  if (!resource) throw new AppError('not_found', 'resource not found');
  return resource;
}

/** The calendars that block time for a resource of the tenant: 404 for an unknown resource, 409 with none connected. */
async function connectedLinks(deps: AppDeps, tenantId: string, resourceId: string) {
  await knownResource(deps, tenantId, resourceId);
  const connection = await findConnectionOfResource(deps.db, tenantId, resourceId);
  if (!connection) throw new AppError('conflict', 'this resource has no calendar connected');
  return (await listLinks(deps.db, tenantId, connection.id)).filter((l) => l.blocks_time);
}

export function calendarRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    const tags = ['calendars'];

    app.get(
      '/api/v1/resources/:id/calendar/connect',
      {
        config: { action: 'calendars.manage', audit: true },
        schema: {
          tags,
          summary: "Start connecting the resource to the owner's Google Calendar or Jobber account",
          description:
            "Redirects (302) to the provider's consent page (Google's by default; `provider=jobber` for Jobber, whose scheduled visits then block time and which receives our bookings as visits); with `redirect=false` answers the URL instead, for a web page to navigate to. After consent the provider returns to the callback, which stores the grant.",
          security,
          params: idParam,
          querystring: z.object({
            redirect: z.enum(['true', 'false']).default('true').describe('false: answer the URL as JSON'),
            provider: z
              .enum(['google', 'jobber'])
              .default('google')
              .describe('The calendar provider to connect (503 when it is not configured here)'),
          }),
          response: {
            200: z.object({ authorization_url: z.url().describe("The provider's consent page") }),
          },
        },
      },
      async (request, reply) => {
        const calendar = calendarOf(deps);
        const tenantId = tenantOf(request);
        await knownResource(deps, tenantId, request.params.id);
        const url = await startConnect(calendar, {
          tenantId,
          resourceId: request.params.id,
          actor: request.principal?.userId ?? request.principal?.subject ?? null,
          provider: request.query.provider,
        });
        if (request.query.redirect === 'false') return { authorization_url: url };
        return reply.redirect(url, 302);
      },
    );

    app.get(
      '/api/v1/calendar/oauth/callback',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Where Google returns after consent (OAuth redirect URI)',
          description:
            'Public: the provider redirects the browser here without a login. The single-use `state` minted by the connect route names the tenant, the resource and the person; an unknown, used or expired state is 400. A browser (Accept: text/html) is sent on to the web app instead: 302 to /app/calendar?calendar=connected, or ?calendar_error=<code>.',
          querystring: z.object({
            state: z.string().min(16).max(200),
            code: z.string().min(1).max(2000).optional(),
            error: z.string().max(200).optional(),
            scope: z.string().max(2000).optional(),
          }),
          response: { 200: z.object({ connected: z.literal(true), connection: connectionSchema }) },
        },
      },
      async (request, reply) => {
        const calendar = calendarOf(deps);
        // The owner's browser comes back here from Google's consent: it belongs in the web app.
        const browser = (request.headers.accept ?? '').includes('text/html');
        let connected: Awaited<ReturnType<typeof completeConnect>>;
        try {
          connected = await completeConnect(calendar, {
            state: request.query.state,
            code: request.query.code ?? null,
            error: request.query.error ?? null,
            correlationId: request.id,
          });
        } catch (err) {
          if (!browser) throw err;
          const code = err instanceof AppError ? err.code : 'internal';
          if (code === 'internal') request.log.error({ err }, 'calendar connection failed');
          return reply.redirect(`${deps.config.PUBLIC_BASE_URL}/app/calendar?calendar_error=${code}`, 302);
        }
        if (browser)
          return reply.redirect(`${deps.config.PUBLIC_BASE_URL}/app/calendar?calendar=connected`, 302);
        return {
          connected: true as const,
          connection: await connectionView(deps.db, connected.connection, Date.now()),
        };
      },
    );

    app.get(
      '/api/v1/resources/:id/calendar',
      {
        config: { action: 'calendars.manage' },
        schema: {
          tags,
          summary: "The resource's calendar connection and the account's calendars",
          security,
          params: idParam,
          response: { 200: resourceCalendar },
        },
      },
      async (request) => {
        const calendar = calendarOf(deps);
        const tenantId = tenantOf(request);
        await knownResource(deps, tenantId, request.params.id);
        const connection = await findConnectionOfResource(deps.db, tenantId, request.params.id);
        const sandbox = deps.calendarSandbox !== undefined;
        if (!connection) return { connection: null, account_calendars: [], sandbox };
        const view = await connectionView(deps.db, connection, Date.now());
        let available: ExternalCalendar[] = [];
        if (connection.status === 'active') {
          try {
            available = await providerOf(calendar, connection.provider).listCalendars(
              openRefreshToken(calendar.keyring, connection),
            );
          } catch (err) {
            request.log.warn({ err }, 'could not list the account calendars');
          }
        }
        const linked = new Map(view.calendars.map((c) => [c.external_id, c]));
        return {
          connection: view,
          account_calendars: available.map((c) => ({
            external_id: c.id,
            summary: c.summary,
            time_zone: c.time_zone,
            primary: c.primary,
            access_role: c.access_role,
            blocks_time: linked.get(c.id)?.blocks_time ?? false,
            receives_bookings: linked.get(c.id)?.receives_bookings ?? false,
          })),
          sandbox,
        };
      },
    );

    app.put(
      '/api/v1/resources/:id/calendar/calendars',
      {
        config: { action: 'calendars.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags,
          summary: 'Pick which calendars block time and which one receives bookings',
          description:
            'The whole choice: calendars left out neither block time nor receive bookings. At most one receives bookings. 409 when no calendar is connected.',
          security,
          params: idParam,
          body: z.object({
            calendars: z
              .array(
                z.object({
                  external_id: z.string().min(1).max(1024),
                  blocks_time: z.boolean(),
                  receives_bookings: z.boolean(),
                }),
              )
              .max(50),
          }),
          response: { 200: connectionSchema },
        },
      },
      async (request) => {
        const calendar = calendarOf(deps);
        const tenantId = tenantOf(request);
        await knownResource(deps, tenantId, request.params.id);
        await selectCalendars(calendar, {
          tenantId,
          resourceId: request.params.id,
          choices: request.body.calendars,
          correlationId: request.id,
        });
        const connection = await findConnectionOfResource(deps.db, tenantId, request.params.id);
        if (!connection) throw new AppError('conflict', 'this resource has no calendar connected');
        return connectionView(deps.db, connection, Date.now());
      },
    );

    app.delete(
      '/api/v1/resources/:id/calendar',
      {
        config: { action: 'calendars.manage', audit: true },
        schema: {
          tags,
          summary: "Disconnect the resource's calendar",
          description:
            'Stops the push channels, revokes the grant at Google and deletes the connection with its mirror. Disconnecting a resource without a connection is harmless (disconnected: false).',
          security,
          params: idParam,
          response: { 200: z.object({ disconnected: z.boolean() }) },
        },
      },
      async (request) => {
        const calendar = calendarOf(deps);
        const tenantId = tenantOf(request);
        await knownResource(deps, tenantId, request.params.id);
        return { disconnected: await disconnect(calendar, tenantId, request.params.id) };
      },
    );

    app.post(
      '/api/v1/resources/:id/calendar/backfill',
      {
        config: { action: 'calendars.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags,
          summary: "Fill the resource's calendar mirror from scratch",
          description:
            'A full listing of every calendar that blocks time, replacing its mirror (and its sync token). 409 when no calendar is connected.',
          security,
          params: idParam,
          body: z
            .object({
              days: daysField.optional().describe('Days ahead; the calendar.horizon_days policy by default'),
            })
            .nullish(),
          response: { 200: listOf(syncResult) },
        },
      },
      async (request) => {
        const calendar = calendarOf(deps);
        const tenantId = tenantOf(request);
        const items = [];
        for (const link of await connectedLinks(deps, tenantId, request.params.id)) {
          const outcome = await syncCalendar(calendar, {
            tenantId,
            calendarId: link.id,
            full: true,
            ...(request.body?.days ? { days: request.body.days } : {}),
            correlationId: request.id,
          }).catch((err: unknown) => {
            throw providerFailure(err);
          });
          if (outcome.kind !== 'synced') continue;
          items.push({
            calendar_id: link.id,
            mode: outcome.mode,
            events: outcome.events,
            busy: outcome.busy,
            pages: outcome.pages,
          });
        }
        return { items, next_cursor: null };
      },
    );

    app.post(
      '/api/v1/resources/:id/calendar/reconcile',
      {
        config: { action: 'calendars.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags,
          summary: "Compare the resource's calendar mirror with a fresh listing",
          description:
            'Reports the drift between the mirror and what the calendar lists now for the next `days` days; with `repair` makes the mirror match. 409 when no calendar is connected.',
          security,
          params: idParam,
          body: z
            .object({
              days: daysField.default(14).describe('Days ahead to compare'),
              repair: z.boolean().default(false).describe('Make the mirror match the listing'),
            })
            .nullish(),
          response: { 200: listOf(reconciliation) },
        },
      },
      async (request) => {
        const calendar = calendarOf(deps);
        const tenantId = tenantOf(request);
        const items = [];
        for (const link of await connectedLinks(deps, tenantId, request.params.id)) {
          const result = await reconcileCalendar(calendar, {
            tenantId,
            calendarId: link.id,
            days: request.body?.days ?? 14,
            repair: request.body?.repair ?? false,
          }).catch((err: unknown) => {
            throw providerFailure(err);
          });
          if (result) items.push(result);
        }
        return { items, next_cursor: null };
      },
    );

    app.post(
      '/api/v1/resources/:id/calendar/sandbox-events',
      {
        config: { action: 'calendars.manage', audit: true, errors: ['conflict'] },
        schema: {
          tags,
          summary: "Demo: add a busy event to the resource's sandbox calendar, as its owner would in Google",
          description:
            'Only outside production, with the Google sandbox running (404 otherwise): the event lands in the connected calendar that blocks time, Google pushes, and the time leaves availability within seconds. 409 when no calendar is connected.',
          security,
          params: idParam,
          body: z.object({
            summary: z.string().trim().min(1).max(200).default('Busy'),
            start: instant,
            end: instant,
          }),
          response: {
            201: z.object({ event_id: z.string(), calendar: z.string().describe('The sandbox calendar id') }),
          },
        },
      },
      async (request, reply) => {
        const sandbox = deps.calendarSandbox;
        if (!sandbox) throw new AppError('not_found', 'no calendar sandbox runs here');
        const tenantId = tenantOf(request);
        const [link] = await connectedLinks(deps, tenantId, request.params.id);
        if (!link) throw new AppError('conflict', 'no connected calendar blocks time for this resource');
        if (Date.parse(request.body.end) <= Date.parse(request.body.start)) {
          throw new AppError('validation_failed', 'end must be after start');
        }
        const event = sandbox.addEvent(
          {
            summary: request.body.summary,
            start: { dateTime: new Date(Date.parse(request.body.start)).toISOString() },
            end: { dateTime: new Date(Date.parse(request.body.end)).toISOString() },
          },
          link.external_id,
        );
        reply.code(201);
        return { event_id: event.id, calendar: link.external_id };
      },
    );

    app.get(
      '/api/v1/calendars',
      {
        config: { action: 'calendars.read' },
        schema: {
          tags,
          summary: 'Every calendar connection of the business, with sync state',
          description:
            'Per calendar: push or poll, channel expiry, last sync and its lag, errors, mirror size.',
          security,
          response: { 200: listOf(connectionSchema) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        return { items: await calendarStatus(deps.db, tenantId, Date.now()), next_cursor: null };
      },
    );

    app.get(
      '/api/v1/calendar/busy',
      {
        config: { action: 'calendars.read' },
        schema: {
          tags,
          summary:
            "Busy blocks mirrored from connected calendars, overlapping [from, to): instants or the tenant's local dates",
          description:
            'What hides times from availability besides our own holds and appointments, by start. Times only: the mirror keeps no title, attendee or description. A date is a local day of the business (`to` inclusive); without `to`, 7 days from `from` (default now). At most 62 days.',
          security,
          querystring: listingWindowQuery,
          response: { 200: listOf(busyBlockSchema) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const { resource_id, limit } = request.query;
        const { from, to, after } = await listingWindowOf(deps.db, tenantId, request.query, Date.now());
        const items = await listBusyBlocks(deps.db, tenantId, {
          from,
          to,
          ...(resource_id ? { resourceId: resource_id } : {}),
          ...(after ? { after } : {}),
          limit: limit + 1,
        });
        const page = items.slice(0, limit);
        const last = page[page.length - 1];
        return {
          items: page,
          next_cursor: items.length > limit && last ? encodeCursor([last.start, last.id]) : null,
        };
      },
    );

    app.get(
      '/api/v1/calendar/conflicts',
      {
        config: { action: 'calendars.read' },
        schema: {
          tags,
          summary: "Appointments that something in the owner's calendar now overlaps",
          description:
            'A busy block that arrived after a booking and overlaps it: nothing was cancelled; a person decides. Only appointments still live and ahead; newest first.',
          security,
          response: { 200: listOf(conflictSchema) },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const rows = await listOpenConflicts(deps.db, tenantId);
        return {
          items: rows.map((r) => ({
            id: r.id,
            appointment_id: r.appointment_id,
            calendar_id: r.calendar_id,
            appointment: { start: r.appointment_start, end: r.appointment_end },
            busy: { start: r.busy_start, end: r.busy_end },
            detected_at: r.detected_at,
          })),
          next_cursor: null,
        };
      },
    );
  };
}
