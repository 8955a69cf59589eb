import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../observability/logger.ts';
import { readBody } from '../../sandbox-body.ts';
import { listenOnLoopback } from '../../sandbox-server.ts';
import {
  CalendarStoreError,
  createCalendarStore,
  type ListQuery,
  type SandboxCalendar,
  type SandboxEvent,
} from './calendar-store.ts';
import { createOAuthServer } from './oauth.ts';
import { createPushChannels, type Delivery } from './push.ts';

export type { SandboxEvent } from './calendar-store.ts';
export type { Channel, Delivery } from './push.ts';

// A stand-in for the slice of Google's OAuth and Calendar v3 APIs that NMC uses, close enough on the
// wire that the real `googleapis` client talks to it unchanged (its rootUrl, and the OAuth client's
// endpoints, pointed here): consent, token, revoke; calendarList; events list (syncToken,
// pageToken, singleEvents, timeMin/timeMax), get, insert, patch, delete; events.watch and
// channels.stop, with push notifications to the channel's address. One Google account with a
// primary calendar (id = its email) and a second one ("Jobs").
//
// What must stay true:
// - Loopback only; the Calendar API needs a live Bearer access token from /token (401 otherwise).
// - Faults on demand for the Calendar API: the next N requests answer a status (429 with
//   Retry-After, 500, 410…); `expireSyncTokens` makes every issued sync token 410; pushes can be
//   dropped (the next N, or all until told otherwise).
// - Changes made through the API and through the owner's helpers (`addEvent`…, a person using
//   Google Calendar) both notify the calendar's channels.

export const SANDBOX_GOOGLE_ACCOUNT = 'owner@sandbox-calendar.example';
export const SANDBOX_SECOND_CALENDAR = 'jobs-sandbox@group.calendar.example';

export type GoogleFault = { status: number; retryAfterSeconds?: number; message?: string };

export interface GoogleSandboxOptions {
  clientId: string;
  clientSecret: string;
  /** The account's calendars' time zone; default America/Los_Angeles (the demo tenant's). */
  timeZone?: string;
  port?: number;
  logger?: Logger;
}

export type OwnerEventInput = Partial<Omit<SandboxEvent, 'kind' | 'etag' | 'created' | 'updated'>> &
  Pick<SandboxEvent, 'start' | 'end'>;

/** What a demo needs of the sandbox: act as the calendar's owner in Google Calendar. */
export type CalendarSandboxOwner = Pick<GoogleSandbox, 'addEvent' | 'deleteEvent'>;

export interface GoogleSandbox {
  /** The Calendar API root (googleapis rootUrl, with a trailing slash added by the caller). */
  readonly url: string;
  /** What GOOGLE_OAUTH_BASE_URL is for this sandbox: Google's OAuth paths live under it. */
  readonly oauthBaseUrl: string;
  readonly account: string;
  calendar(id?: string): SandboxCalendar;
  /** The events of a calendar as stored (instances of recurring events included). */
  events(calendarId?: string): SandboxEvent[];
  /** A person adds an event in Google Calendar; the calendar's channels are notified. */
  addEvent(input: OwnerEventInput, calendarId?: string): SandboxEvent;
  updateEvent(eventId: string, changes: Partial<SandboxEvent>, calendarId?: string): SandboxEvent;
  deleteEvent(eventId: string, calendarId?: string): void;
  failNext(count: number, fault: GoogleFault): void;
  expireSyncTokens(): void;
  dropNextPushes(count: number): void;
  dropAllPushes(drop: boolean): void;
  /** Ends every access token now (refresh tokens stay): the next call refreshes. */
  expireAccessTokens(): void;
  denyNextConsent(count?: number): void;
  consents(): Array<{ scope: string; accessType: string | null; prompt: string | null }>;
  liveRefreshTokens(): string[];
  /** The account owner removes the app's access in their Google account: every grant ends. */
  revokeAllGrants(): void;
  channels: ReturnType<typeof createPushChannels>;
  deliveries(): Delivery[];
  /** Every API request: method, path and the status answered. */
  requests(): Array<{ method: string; path: string; status: number }>;
  /** Waits until no push delivery is in flight. */
  settle(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

function googleError(
  status: number,
  reason: string,
  message: string,
  headers?: Record<string, string>,
): Answer {
  return {
    status,
    body: { error: { code: status, message, errors: [{ domain: 'global', reason, message }] } },
    ...(headers ? { headers } : {}),
  };
}

function reasonFor(status: number): string {
  if (status === 410) return 'fullSyncRequired';
  if (status === 429) return 'rateLimitExceeded';
  if (status === 403) return 'forbidden';
  if (status >= 500) return 'backendError';
  return 'invalid';
}

function bool(value: string | null): boolean | undefined {
  return value === null ? undefined : value === 'true';
}

function parseJson(raw: string): Record<string, unknown> | null {
  if (raw.trim() === '') return {};
  try {
    const value = JSON.parse(raw) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function calendarListEntry(calendar: SandboxCalendar) {
  return {
    kind: 'calendar#calendarListEntry',
    etag: `"${calendar.seq}"`,
    id: calendar.id,
    summary: calendar.summary,
    timeZone: calendar.timeZone,
    accessRole: calendar.accessRole,
    ...(calendar.primary ? { primary: true } : {}),
  };
}

export async function startGoogleSandbox(options: GoogleSandboxOptions): Promise<GoogleSandbox> {
  const { logger } = options;
  const timeZone = options.timeZone ?? 'America/Los_Angeles';
  let baseUrl = '';
  const oauth = createOAuthServer({ clientId: options.clientId, clientSecret: options.clientSecret });
  const store = createCalendarStore({ owner: SANDBOX_GOOGLE_ACCOUNT, timeZone });
  store.addCalendar({ id: SANDBOX_GOOGLE_ACCOUNT, summary: SANDBOX_GOOGLE_ACCOUNT, primary: true });
  store.addCalendar({ id: SANDBOX_SECOND_CALENDAR, summary: 'Jobs' });
  const push = createPushChannels({ apiBaseUrl: () => baseUrl, ...(logger ? { logger } : {}) });
  let faults: GoogleFault[] = [];
  let requests: Array<{ method: string; path: string; status: number }> = [];

  const changed = (calendarId: string) => push.changed(store.resolve(calendarId).id);

  function events(
    method: string,
    calendarId: string,
    rest: string[],
    url: URL,
    body: Record<string, unknown>,
  ): Answer {
    const [eventId, action] = rest;
    if (eventId === undefined) {
      if (method === 'GET') {
        const p = url.searchParams;
        const query: ListQuery = {};
        for (const key of ['syncToken', 'pageToken', 'timeMin', 'timeMax'] as const) {
          const value = p.get(key);
          if (value !== null) query[key] = value;
        }
        const single = bool(p.get('singleEvents'));
        const deleted = bool(p.get('showDeleted'));
        if (single !== undefined) query.singleEvents = single;
        if (deleted !== undefined) query.showDeleted = deleted;
        if (p.get('maxResults') !== null) query.maxResults = Number(p.get('maxResults'));
        const answer = store.list(calendarId, query);
        if (answer.kind === 'gone') {
          return googleError(
            410,
            'fullSyncRequired',
            'Sync token is no longer valid, a full sync is required.',
          );
        }
        if (answer.kind === 'invalid') return googleError(400, 'invalid', answer.message);
        const calendar = store.resolve(calendarId);
        return {
          status: 200,
          body: {
            kind: 'calendar#events',
            etag: `"${calendar.seq}"`,
            summary: calendar.summary,
            updated: new Date().toISOString(),
            timeZone: answer.timeZone,
            accessRole: calendar.accessRole,
            defaultReminders: [],
            ...(answer.nextPageToken ? { nextPageToken: answer.nextPageToken } : {}),
            ...(answer.nextSyncToken ? { nextSyncToken: answer.nextSyncToken } : {}),
            items: answer.items,
          },
        };
      }
      if (method === 'POST') {
        const event = store.insert(calendarId, body as Partial<SandboxEvent>);
        changed(calendarId);
        return { status: 200, body: event };
      }
    } else if (eventId === 'watch' && method === 'POST') {
      const id = typeof body.id === 'string' ? body.id : '';
      const address = typeof body.address === 'string' ? body.address : '';
      if (!id || !address || body.type !== 'web_hook') {
        return googleError(400, 'required', 'id, type=web_hook and address are required.');
      }
      const params = (body.params ?? {}) as Record<string, unknown>;
      const channel = push.watch({
        calendarId: store.resolve(calendarId).id,
        id,
        address,
        ...(typeof body.token === 'string' ? { token: body.token } : {}),
        ...(params.ttl !== undefined ? { ttlSeconds: Number(params.ttl) } : {}),
      });
      return {
        status: 200,
        body: {
          kind: 'api#channel',
          id: channel.id,
          resourceId: channel.resourceId,
          resourceUri: `${baseUrl}/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
          ...(channel.token === null ? {} : { token: channel.token }),
          expiration: String(channel.expiration),
        },
      };
    } else if (action === undefined) {
      if (method === 'GET') return { status: 200, body: store.get(calendarId, eventId) };
      if (method === 'PATCH' || method === 'PUT') {
        const event = store.patch(calendarId, eventId, body as Partial<SandboxEvent>);
        changed(calendarId);
        return { status: 200, body: event };
      }
      if (method === 'DELETE') {
        store.remove(calendarId, eventId);
        changed(calendarId);
        return { status: 204 };
      }
    }
    return googleError(404, 'notFound', 'Not Found');
  }

  function calendarApi(method: string, path: string, url: URL, body: Record<string, unknown>): Answer {
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    // calendar v3 …
    const [, , first, second, third, ...rest] = segments;
    if (first === 'users' && second === 'me' && third === 'calendarList' && method === 'GET') {
      return {
        status: 200,
        body: { kind: 'calendar#calendarList', items: [...store.calendars.values()].map(calendarListEntry) },
      };
    }
    if (first === 'channels' && second === 'stop' && method === 'POST') {
      const ok = push.stop(String(body.id ?? ''), String(body.resourceId ?? ''));
      return ok ? { status: 204 } : googleError(404, 'notFound', 'Channel not found for project.');
    }
    if (first === 'calendars' && second !== undefined && third === 'events') {
      return events(method, second, rest, url, body);
    }
    return googleError(404, 'notFound', 'Not Found');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const raw = await readBody(req, MAX_BODY_BYTES);
    let answer: Answer;
    if (raw === null) {
      answer = googleError(413, 'tooLarge', 'Request too large');
    } else if (path === '/o/oauth2/v2/auth' && method === 'GET') {
      const result = oauth.authorize(url.searchParams);
      answer =
        result.kind === 'redirect'
          ? { status: 302, headers: { location: result.location } }
          : { status: result.status, body: result.body };
    } else if (path === '/token' && method === 'POST') {
      const result = oauth.exchange(new URLSearchParams(raw));
      answer = result.kind === 'json' ? { status: result.status, body: result.body } : { status: 500 };
    } else if (path === '/revoke' && method === 'POST') {
      const value = url.searchParams.get('token') ?? new URLSearchParams(raw).get('token') ?? '';
      const result = oauth.revoke(value);
      answer = result.kind === 'json' ? { status: result.status, body: result.body } : { status: 500 };
    } else if (path.startsWith('/calendar/v3/')) {
      const fault = faults.shift();
      const body = parseJson(raw);
      if (!oauth.authenticated(req.headers.authorization)) {
        answer = googleError(401, 'authError', 'Invalid Credentials');
      } else if (fault) {
        answer = googleError(
          fault.status,
          reasonFor(fault.status),
          fault.message ?? 'Sandbox fault',
          fault.retryAfterSeconds === undefined
            ? undefined
            : { 'retry-after': String(fault.retryAfterSeconds) },
        );
      } else if (body === null) {
        answer = googleError(400, 'parseError', 'Parse Error');
      } else {
        try {
          answer = calendarApi(method, path, url, body);
        } catch (err) {
          if (!(err instanceof CalendarStoreError)) throw err;
          answer = googleError(err.status, err.reason, err.message);
        }
      }
    } else {
      answer = googleError(404, 'notFound', 'Not Found');
    }
    requests.push({ method, path, status: answer.status });
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(payload ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
      'content-length': Buffer.byteLength(payload),
      ...answer.headers,
    });
    res.end(payload);
  }

  const server = await listenOnLoopback({
    ...(options.port === undefined ? {} : { port: options.port }),
    handle,
    onFailure: (err, res) => {
      logger?.error({ err }, 'google sandbox: request failed');
      const { status, body } = googleError(500, 'backendError', 'Backend Error');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    },
  });
  baseUrl = server.url;

  return {
    url: baseUrl,
    oauthBaseUrl: baseUrl,
    account: SANDBOX_GOOGLE_ACCOUNT,
    calendar: (id = 'primary') => store.resolve(id),
    events: (id = 'primary') => [...store.resolve(id).events.values()].map((s) => s.event),
    addEvent(input, calendarId = 'primary') {
      const event = store.insert(calendarId, input);
      changed(calendarId);
      return event;
    },
    updateEvent(eventId, changes, calendarId = 'primary') {
      const event = store.patch(calendarId, eventId, changes);
      changed(calendarId);
      return event;
    },
    deleteEvent(eventId, calendarId = 'primary') {
      store.remove(calendarId, eventId);
      changed(calendarId);
    },
    failNext(count, fault) {
      if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) {
        throw new RangeError('failNext: status must be an HTTP error status (400..599)');
      }
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    expireSyncTokens: () => store.expireSyncTokens(),
    dropNextPushes: (count) => push.dropNextPushes(count),
    dropAllPushes: (drop) => push.dropAllPushes(drop),
    expireAccessTokens: () => oauth.expireAccessTokens(),
    denyNextConsent: (count) => oauth.denyNextConsent(count),
    consents: () => oauth.consents(),
    liveRefreshTokens: () => oauth.liveRefreshTokens(),
    revokeAllGrants: () => {
      for (const token of oauth.liveRefreshTokens()) oauth.revoke(token);
    },
    channels: push,
    deliveries: () => push.deliveries(),
    requests: () => [...requests],
    settle: () => push.settle(),
    reset() {
      store.reset();
      oauth.reset();
      push.reset();
      faults = [];
      requests = [];
    },
    close: () => server.close(),
  };
}
