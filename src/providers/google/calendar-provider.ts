import type {
  CalendarProvider,
  EventListing,
  ExternalCalendar,
  ListRequest,
  OurEvent,
  ProviderEvent,
} from '../calendar/provider.ts';
import { CalendarProviderError } from '../calendar/provider.ts';
import type { GoogleAccount } from './account.ts';

// Google Calendar through the real `googleapis` client: its rootUrl is GOOGLE_API_BASE_URL and the
// OAuth client's endpoints are GOOGLE_OAUTH_BASE_URL + Google's own paths, so the same code talks to
// Google or to the sandbox. Decisions:
// - Scopes are the narrowest that work: `calendar.events` (list, watch and write events on the
//   calendars the owner picks) and `calendar.calendarlist.readonly` (to offer the owner their
//   calendars). No access to calendar settings, sharing or other people's calendars.
// - `access_type=offline` + `prompt=consent`: Google returns a refresh token on every consent, so a
//   reconnect after a revoke always yields one.
// - The client's own retries are off: a 429/5xx becomes a `retryable` CalendarProviderError (with
//   Retry-After when given) and our jobs retry with our backoff (src/domain/backoff.ts).
// - googleapis is loaded at first use: a system that never connects a calendar never carries it.

export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/calendar.events',
  'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
] as const;

const PAGE_SIZE = 250;
const MAX_PAGES = 200;

type CalendarModule = typeof import('googleapis/build/src/apis/calendar/index.js');
let loaded: Promise<CalendarModule> | undefined;
const loadCalendarModule = () => {
  loaded ??= import('googleapis/build/src/apis/calendar/index.js');
  return loaded;
};

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function oauthEndpoints(account: GoogleAccount) {
  if (!account.oauthBaseUrl) return undefined;
  const base = account.oauthBaseUrl.replace(/\/$/, '');
  return {
    oauth2AuthBaseUrl: `${base}/o/oauth2/v2/auth`,
    oauth2TokenUrl: `${base}/token`,
    oauth2RevokeUrl: `${base}/revoke`,
  };
}

function headerOf(headers: unknown, name: string): string | null {
  // gaxios answers a fetch Headers (possibly of another realm), older versions a plain object.
  const getter = (headers as { get?: unknown } | null)?.get;
  if (typeof getter === 'function') {
    const value: unknown = getter.call(headers, name);
    return typeof value === 'string' ? value : null;
  }
  if (headers && typeof headers === 'object') {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : null;
  }
  return null;
}

/** Retry-After as seconds or an HTTP date, in ms; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Every failure of a Google call, classified once. The raw client error is not kept as the cause:
 * it carries the request (its Authorization header, a revoke URL with the token in its query), and
 * errors reach the log. Only the status, Google's own reason and message are kept.
 */
export function classifyGoogleError(err: unknown): CalendarProviderError {
  if (err instanceof CalendarProviderError) return err;
  const e = err as {
    status?: number;
    code?: number | string;
    message?: string;
    response?: {
      status?: number;
      headers?: unknown;
      data?: { error?: unknown; error_description?: unknown };
    };
  };
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : null);
  const data = e.response?.data;
  const oauthError = typeof data?.error === 'string' ? data.error : null;
  const apiMessage =
    data?.error &&
    typeof data.error === 'object' &&
    typeof (data.error as { message?: unknown }).message === 'string'
      ? (data.error as { message: string }).message
      : null;
  const message = `Google ${status ?? 'network'}: ${apiMessage ?? oauthError ?? (status === null ? (e.code ?? 'unreachable') : 'request failed')}`;
  if (status === 410) return new CalendarProviderError('gone', message, { status });
  if (status === 429 || (status !== null && status >= 500)) {
    return new CalendarProviderError('retryable', message, {
      status,
      retryAfterMs: retryAfterMs(headerOf(e.response?.headers, 'retry-after')),
    });
  }
  if (status === 401 || oauthError === 'invalid_grant') {
    return new CalendarProviderError('unauthorized', message, { status });
  }
  if (status === 404) return new CalendarProviderError('not_found', message, { status });
  if (status === null) return new CalendarProviderError('retryable', message);
  return new CalendarProviderError('rejected', message, { status });
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw classifyGoogleError(err);
  }
}

function eventBody(event: OurEvent) {
  return {
    ...(event.id ? { id: event.id } : {}),
    summary: event.summary,
    description: event.description,
    start: { dateTime: event.start },
    end: { dateTime: event.end },
    // Our bookings are busy time for the owner, and carry our ids so sync knows them as ours.
    transparency: 'opaque',
    extendedProperties: { private: event.marker },
  };
}

export function createGoogleCalendarProvider(account: GoogleAccount): CalendarProvider {
  const endpoints = oauthEndpoints(account);

  async function oauthClient(refreshToken?: string) {
    const { auth } = await loadCalendarModule();
    const client = new auth.OAuth2({
      clientId: account.clientId,
      clientSecret: account.clientSecret,
      ...(endpoints ? { endpoints } : {}),
    });
    if (refreshToken !== undefined) client.setCredentials({ refresh_token: refreshToken });
    return client;
  }

  async function api(refreshToken: string) {
    const { calendar } = await loadCalendarModule();
    return calendar({
      version: 'v3',
      auth: await oauthClient(refreshToken),
      retry: false,
      ...(account.apiBaseUrl ? { rootUrl: withSlash(account.apiBaseUrl) } : {}),
    });
  }

  return {
    kind: 'google',

    authorizationUrl({ state, codeChallenge, redirectUri }) {
      // Built without loading the client: the same query Google's generateAuthUrl builds.
      const base = endpoints?.oauth2AuthBaseUrl ?? 'https://accounts.google.com/o/oauth2/v2/auth';
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: account.clientId,
        redirect_uri: redirectUri,
        scope: GOOGLE_SCOPES.join(' '),
        access_type: 'offline',
        prompt: 'consent',
        include_granted_scopes: 'false',
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
      return `${base}?${query.toString()}`;
    },

    async exchangeCode({ code, codeVerifier, redirectUri }) {
      const client = await oauthClient();
      const { tokens } = await call(() => client.getToken({ code, codeVerifier, redirect_uri: redirectUri }));
      if (!tokens.refresh_token) {
        throw new CalendarProviderError(
          'rejected',
          'Google granted no refresh token (offline access refused)',
        );
      }
      return { refreshToken: tokens.refresh_token, scope: tokens.scope ?? '' };
    },

    async revoke(refreshToken) {
      const client = await oauthClient();
      try {
        await client.revokeToken(refreshToken);
      } catch (err) {
        const classified = classifyGoogleError(err);
        // Already revoked (by the owner in their Google account): nothing left to do.
        if (classified.status === 400) return;
        throw classified;
      }
    },

    async listCalendars(refreshToken) {
      const calendar = await api(refreshToken);
      const items: ExternalCalendar[] = [];
      let pageToken: string | undefined;
      do {
        const { data } = await call(() =>
          calendar.calendarList.list({ maxResults: PAGE_SIZE, ...(pageToken ? { pageToken } : {}) }),
        );
        for (const entry of data.items ?? []) {
          if (!entry.id) continue;
          items.push({
            id: entry.id,
            summary: entry.summaryOverride ?? entry.summary ?? entry.id,
            time_zone: entry.timeZone ?? 'UTC',
            primary: entry.primary === true,
            access_role: entry.accessRole ?? 'reader',
          });
        }
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken);
      return items;
    },

    async listEvents(refreshToken, calendarId, request: ListRequest): Promise<EventListing> {
      const calendar = await api(refreshToken);
      const events: ProviderEvent[] = [];
      let pageToken: string | undefined;
      let nextSyncToken: string | null = null;
      let timeZone: string | null = null;
      let pages = 0;
      do {
        const base = {
          calendarId,
          singleEvents: true,
          maxResults: PAGE_SIZE,
          ...(pageToken ? { pageToken } : {}),
        };
        const params =
          request.mode === 'full'
            ? { ...base, timeMin: request.timeMin, timeMax: request.timeMax, showDeleted: false }
            : { ...base, syncToken: request.syncToken };
        const { data } = await call(() => calendar.events.list(params));
        pages += 1;
        events.push(...((data.items ?? []) as ProviderEvent[]));
        timeZone = data.timeZone ?? timeZone;
        nextSyncToken = data.nextSyncToken ?? null;
        pageToken = data.nextPageToken ?? undefined;
        if (pages > MAX_PAGES) throw new CalendarProviderError('rejected', 'too many pages in one listing');
      } while (pageToken);
      return { events, nextSyncToken, timeZone, pages };
    },

    async insertEvent(refreshToken, calendarId, event) {
      const calendar = await api(refreshToken);
      const { data } = await call(() =>
        calendar.events.insert({ calendarId, requestBody: eventBody(event) }),
      );
      if (!data.id) throw new CalendarProviderError('rejected', 'Google returned an event without an id');
      return { id: data.id };
    },

    async updateEvent(refreshToken, calendarId, eventId, event) {
      const calendar = await api(refreshToken);
      const { id: _id, ...fields } = event;
      await call(() => calendar.events.patch({ calendarId, eventId, requestBody: eventBody(fields) }));
    },

    async deleteEvent(refreshToken, calendarId, eventId) {
      const calendar = await api(refreshToken);
      try {
        await call(() => calendar.events.delete({ calendarId, eventId }));
      } catch (err) {
        // Already gone (the owner deleted it): the goal is reached.
        if (err instanceof CalendarProviderError && (err.status === 404 || err.status === 410)) return;
        throw err;
      }
    },

    async watch(refreshToken, calendarId, channel) {
      const calendar = await api(refreshToken);
      const { data } = await call(() =>
        calendar.events.watch({
          calendarId,
          requestBody: {
            id: channel.channelId,
            type: 'web_hook',
            address: channel.address,
            token: channel.token,
            params: { ttl: String(channel.ttlSeconds) },
          },
        }),
      );
      if (!data.resourceId || !data.expiration) {
        throw new CalendarProviderError(
          'rejected',
          'Google opened a channel without a resource id or expiration',
        );
      }
      return { resourceId: data.resourceId, expiration: new Date(Number(data.expiration)).toISOString() };
    },

    async stopChannel(refreshToken, channel) {
      const calendar = await api(refreshToken);
      try {
        await call(() =>
          calendar.channels.stop({ requestBody: { id: channel.channelId, resourceId: channel.resourceId } }),
        );
      } catch (err) {
        // Already stopped or expired.
        if (err instanceof CalendarProviderError && err.kind === 'not_found') return;
        throw err;
      }
    },
  };
}
