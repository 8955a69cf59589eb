import { OUR_MARKER } from '../../domain/calendar-busy.ts';
import type {
  CalendarProvider,
  EventListing,
  ExternalCalendar,
  ProviderEvent,
} from '../calendar/provider.ts';
import { CalendarProviderError } from '../calendar/provider.ts';
import { JOBBER_API_BASE_URL, JOBBER_GRAPHQL_VERSION, type JobberAccount } from './account.ts';

// graphql-request (and graphql-js under it, some 270 modules) loads at the first call to Jobber:
// most processes never make one.
let graphqlRequest: typeof import('graphql-request') | undefined;
async function loadGraphqlRequest(): Promise<typeof import('graphql-request')> {
  graphqlRequest ??= await import('graphql-request');
  return graphqlRequest;
}

// Jobber behind the CalendarProvider interface, through graphql-request against Jobber's GraphQL
// endpoint (JOBBER_API_BASE_URL + /api/graphql; OAuth at /api/oauth/authorize and /api/oauth/token).
// Decisions:
// - A Jobber account is one "calendar": its scheduled visits block the resource's time, and our
//   bookings become visits in it. The account id (from the `account` query) is the calendar id.
// - The refresh token is what NMC stores (sealed); access tokens (JWTs, an hour) live in memory
//   only, per refresh token, refreshed before `exp` or on a 401. With Refresh Token Rotation on,
//   a refresh answers a new refresh token: it is reported (`onRefreshTokenRotated`) to be stored
//   in place of the old one, and used from then on. Two processes refreshing the same token at
//   once would still race (Jobber refuses the second use): leave rotation off where it can be.
// - Jobber has no change feed for visits: a listing is always the whole horizon (`nextSyncToken`
//   null makes every sync a full one, which also notices deleted visits); webhooks only say when.
// - Our ids ride in the visit's instructions as `nmc_…: <id>` lines (Jobber visits carry no private
//   properties); a listed visit with them maps to Google's `extendedProperties.private`, so the
//   domain's rule (src/domain/calendar-busy.ts) does not mirror our own visits back as busy time.
// - Jobber does not take client ids: a retried insert first looks for a visit of ours at that
//   start, so a lost answer does not create a second visit.
// - Failures are classified once: 401 after a refresh, or a refused refresh → `unauthorized`; 429,
//   5xx, network, and a THROTTLED answer (Jobber's query-cost bucket; retry after the points it
//   lacks are restored at `restoreRate`) → `retryable`; a missing visit → `not_found`.

const PAGE_SIZE = 100;
const MAX_PAGES = 100;
/** Refresh an access token this long before its `exp`. */
const EXPIRY_MARGIN_MS = 60_000;
const DEFAULT_ACCESS_TTL_MS = 60 * 60_000;
/** Jobber webhooks are app-level: there is no channel to open, so ours is a record of "pushes expected". */
export const JOBBER_WEBHOOK_RESOURCE = 'jobber-app-webhooks';

const VISIT_FIELDS = 'id title instructions startAt endAt allDay visitStatus';

const ACCOUNT_QUERY = /* GraphQL */ `query NmcAccount { account { id name } }`;
const VISITS_QUERY = /* GraphQL */ `
  query NmcVisits($first: Int!, $after: String, $filter: VisitFilterAttributes) {
    visits(first: $first, after: $after, filter: $filter) {
      nodes { ${VISIT_FIELDS} }
      pageInfo { endCursor hasNextPage }
    }
  }`;
const VISIT_CREATE = /* GraphQL */ `
  mutation NmcVisitCreate($input: VisitCreateInput!) {
    visitCreate(input: $input) { visit { id } userErrors { message path } }
  }`;
const VISIT_EDIT_SCHEDULE = /* GraphQL */ `
  mutation NmcVisitEditSchedule($id: EncodedId!, $input: VisitEditScheduleInput!) {
    visitEditSchedule(id: $id, input: $input) { visit { id } userErrors { message path } }
  }`;
const VISIT_DELETE = /* GraphQL */ `
  mutation NmcVisitDelete($id: EncodedId!) {
    visitDelete(id: $id) { deletedVisitId userErrors { message path } }
  }`;
const APP_DISCONNECT = /* GraphQL */ `
  mutation NmcDisconnect { appDisconnect { app { name } userErrors { message } } }`;

export type JobberVisit = {
  id: string;
  title: string | null;
  instructions: string | null;
  startAt: string | null;
  endAt: string | null;
  allDay: boolean;
  visitStatus: string;
};

type UserError = { message: string; path?: string[] };

const MARKER_LINE = /^(nmc_[a-z_]+): (\S+)$/gm;

/** Our ids as the lines they are written as at the end of a visit's instructions. */
export function markerLines(marker: Record<string, string>): string {
  return Object.entries(marker)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n');
}

export function markerOf(instructions: string | null): Record<string, string> | null {
  if (!instructions) return null;
  const found: Record<string, string> = {};
  for (const m of instructions.matchAll(MARKER_LINE)) if (m[1] && m[2]) found[m[1]] = m[2];
  return Object.keys(found).length > 0 ? found : null;
}

/** A visit in Google's event terms, for the domain's busy rule. */
export function visitAsEvent(visit: JobberVisit): ProviderEvent {
  const marker = markerOf(visit.instructions);
  return {
    id: visit.id,
    status: 'confirmed',
    start: visit.startAt ? { dateTime: visit.startAt } : null,
    end: visit.endAt ? { dateTime: visit.endAt } : null,
    transparency: 'opaque',
    ...(marker ? { extendedProperties: { private: marker } } : {}),
  };
}

/** An instant as Jobber's LocalDateTimeAttributes (in UTC: the instant is what matters). */
export function localDateTime(iso: string): { date: string; time: string; timezone: string } {
  const utc = new Date(iso).toISOString();
  return { date: utc.slice(0, 10), time: utc.slice(11, 19), timezone: 'UTC' };
}

function expiryOf(accessToken: string, now: number): number {
  try {
    const payload = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      exp?: unknown;
    };
    if (typeof payload.exp === 'number') return payload.exp * 1000;
  } catch {
    // Not a JWT we can read: assume Jobber's default lifetime.
  }
  return now + DEFAULT_ACCESS_TTL_MS;
}

type Cost = {
  requestedQueryCost?: number;
  throttleStatus?: { currentlyAvailable?: number; restoreRate?: number };
};

/** How long until a throttled query's points are back, from Jobber's cost extension. */
export function throttleWaitMs(cost: Cost | undefined): number | null {
  const requested = cost?.requestedQueryCost;
  const available = cost?.throttleStatus?.currentlyAvailable;
  const rate = cost?.throttleStatus?.restoreRate;
  if (typeof requested !== 'number' || typeof available !== 'number' || typeof rate !== 'number' || rate <= 0)
    return null;
  return Math.max(0, Math.ceil(((requested - available) / rate) * 1000));
}

/** Every failure of a Jobber call, classified once; the request (its Authorization header) is not kept. */
export function classifyJobberError(err: unknown): CalendarProviderError {
  if (err instanceof CalendarProviderError) return err;
  // Only a loaded graphql-request can have thrown its ClientError.
  if (graphqlRequest && err instanceof graphqlRequest.ClientError) {
    const { status, errors, extensions } = err.response;
    const throttled = errors?.some(
      (e) => (e.extensions as { code?: unknown } | undefined)?.code === 'THROTTLED',
    );
    const first = errors?.[0]?.message ?? 'request failed';
    const message = `Jobber ${status}: ${throttled ? 'Throttled' : first}`;
    if (throttled) {
      return new CalendarProviderError('retryable', message, {
        status: 429,
        retryAfterMs: throttleWaitMs((extensions as { cost?: Cost } | undefined)?.cost),
      });
    }
    if (status === 429 || status >= 500) {
      const retryAfter = Number(err.response.headers?.get?.('retry-after'));
      return new CalendarProviderError('retryable', message, {
        status,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      });
    }
    if (status === 401 || status === 403)
      return new CalendarProviderError('unauthorized', message, { status });
    return new CalendarProviderError('rejected', message, { status });
  }
  return new CalendarProviderError(
    'retryable',
    `Jobber network: ${(err as Error)?.message ?? 'unreachable'}`,
  );
}

function userErrorOf(kind: string, errors: UserError[] | undefined): CalendarProviderError | null {
  const first = errors?.[0];
  if (!first) return null;
  if (/not found/i.test(first.message)) {
    return new CalendarProviderError('not_found', `Jobber ${kind}: ${first.message}`, { status: 404 });
  }
  return new CalendarProviderError('rejected', `Jobber ${kind}: ${first.message}`, { status: 422 });
}

export function createJobberCalendarProvider(
  account: JobberAccount,
  options: { now?: () => number } = {},
): CalendarProvider {
  const base = (account.apiBaseUrl ?? JOBBER_API_BASE_URL).replace(/\/$/, '');
  const now = options.now ?? Date.now;
  const sessions = new Map<string, { accessToken: string; expiresAt: number }>();
  // A rotated refresh token → its successor, for calls still made with the old one.
  const successors = new Map<string, string>();
  let rotated: ((previous: string, next: string) => Promise<void>) | null = null;
  const current = (refreshToken: string): string => {
    let token = refreshToken;
    for (let hops = 0; successors.has(token) && hops < 100; hops += 1) token = successors.get(token) ?? token;
    return token;
  };

  async function tokenRequest(
    form: Record<string, string>,
  ): Promise<{ access_token: string; refresh_token: string }> {
    let res: Response;
    try {
      res = await fetch(`${base}/api/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          client_id: account.clientId,
          client_secret: account.clientSecret,
          ...form,
        }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new CalendarProviderError(
        'retryable',
        `Jobber token endpoint unreachable: ${(err as Error).message}`,
      );
    }
    const body = (await res.json().catch(() => ({}))) as {
      access_token?: unknown;
      refresh_token?: unknown;
      error?: unknown;
    };
    const reason = typeof body.error === 'string' ? body.error : 'token request failed';
    if (res.status === 429 || res.status >= 500) {
      throw new CalendarProviderError('retryable', `Jobber ${res.status}: ${reason}`, { status: res.status });
    }
    if (!res.ok) {
      const kind = res.status === 401 || reason === 'invalid_grant' ? 'unauthorized' : 'rejected';
      throw new CalendarProviderError(kind, `Jobber ${res.status}: ${reason}`, { status: res.status });
    }
    if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
      throw new CalendarProviderError('rejected', 'Jobber granted no access or refresh token');
    }
    return { access_token: body.access_token, refresh_token: body.refresh_token };
  }

  function remember(refreshToken: string, accessToken: string) {
    sessions.set(refreshToken, { accessToken, expiresAt: expiryOf(accessToken, now()) });
  }

  async function accessTokenFor(refreshToken: string, force: boolean): Promise<string> {
    const token = current(refreshToken);
    const session = sessions.get(token);
    if (!force && session && session.expiresAt - EXPIRY_MARGIN_MS > now()) return session.accessToken;
    const granted = await tokenRequest({ grant_type: 'refresh_token', refresh_token: token });
    if (granted.refresh_token !== token) {
      successors.set(token, granted.refresh_token);
      sessions.delete(token);
      await rotated?.(token, granted.refresh_token);
    }
    remember(granted.refresh_token, granted.access_token);
    return granted.access_token;
  }

  async function gql<T>(
    refreshToken: string,
    document: string,
    variables?: Record<string, unknown>,
  ): Promise<T> {
    const { ClientError, GraphQLClient } = await loadGraphqlRequest();
    for (let attempt = 0; ; attempt += 1) {
      const accessToken = await accessTokenFor(refreshToken, attempt > 0);
      const client = new GraphQLClient(`${base}/api/graphql`, {
        headers: {
          authorization: `Bearer ${accessToken}`,
          'X-JOBBER-GRAPHQL-VERSION': JOBBER_GRAPHQL_VERSION,
        },
      });
      try {
        const { data } = await client.rawRequest<T>(document, variables);
        return data;
      } catch (err) {
        // An expired (or otherwise refused) access token: refresh once and ask again.
        if (attempt === 0 && err instanceof ClientError && err.response.status === 401) {
          sessions.delete(current(refreshToken));
          continue;
        }
        throw classifyJobberError(err);
      }
    }
  }

  async function listVisits(
    refreshToken: string,
    filter: { after: string; before: string },
  ): Promise<{ visits: JobberVisit[]; pages: number }> {
    const visits: JobberVisit[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const data: {
        visits: { nodes: JobberVisit[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
      } = await gql(refreshToken, VISITS_QUERY, { first: PAGE_SIZE, after, filter: { startAt: filter } });
      pages += 1;
      visits.push(...data.visits.nodes);
      after = data.visits.pageInfo.hasNextPage ? data.visits.pageInfo.endCursor : null;
      if (pages > MAX_PAGES) throw new CalendarProviderError('rejected', 'too many pages in one listing');
    } while (after);
    return { visits, pages };
  }

  return {
    kind: 'jobber',

    authorizationUrl({ state, redirectUri }) {
      // Jobber's code flow has no PKCE; the state (single use, kept hashed) is what ties the answer to us.
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: account.clientId,
        redirect_uri: redirectUri,
        state,
      });
      return `${base}/api/oauth/authorize?${query.toString()}`;
    },

    async exchangeCode({ code, redirectUri }) {
      const granted = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
      });
      remember(granted.refresh_token, granted.access_token);
      // Jobber's scopes are the app's, set in its Developer Center: nothing to read back here.
      return { refreshToken: granted.refresh_token, scope: '' };
    },

    async revoke(refreshToken) {
      try {
        await gql(refreshToken, APP_DISCONNECT);
      } catch (err) {
        // Already disconnected in Jobber: nothing left to do.
        if (err instanceof CalendarProviderError && err.kind === 'unauthorized') return;
        throw err;
      } finally {
        sessions.delete(current(refreshToken));
      }
    },

    async listCalendars(refreshToken): Promise<ExternalCalendar[]> {
      const data = await gql<{ account: { id: string; name: string } }>(refreshToken, ACCOUNT_QUERY);
      return [
        {
          id: data.account.id,
          summary: data.account.name,
          time_zone: 'UTC',
          primary: true,
          access_role: 'owner',
        },
      ];
    },

    async listEvents(refreshToken, _calendarId, request): Promise<EventListing> {
      if (request.mode === 'incremental') {
        // Never handed out (nextSyncToken is null); answered as Google answers a stale token.
        throw new CalendarProviderError('gone', 'Jobber lists visits in full only', { status: 410 });
      }
      const { visits, pages } = await listVisits(refreshToken, {
        after: request.timeMin,
        before: request.timeMax,
      });
      return { events: visits.map(visitAsEvent), nextSyncToken: null, timeZone: null, pages };
    },

    async insertEvent(refreshToken, _calendarId, event) {
      const ours = event.marker[OUR_MARKER];
      if (event.id && ours) {
        const { visits } = await listVisits(refreshToken, { after: event.start, before: event.start });
        const existing = visits.find((v) => markerOf(v.instructions)?.[OUR_MARKER] === ours);
        if (existing) return { id: existing.id };
      }
      const data = await gql<{ visitCreate: { visit: { id: string } | null; userErrors: UserError[] } }>(
        refreshToken,
        VISIT_CREATE,
        {
          input: {
            title: event.summary,
            instructions: `${event.description}\n\n${markerLines(event.marker)}`,
            startAt: new Date(event.start).toISOString(),
            endAt: new Date(event.end).toISOString(),
          },
        },
      );
      const refused = userErrorOf('visitCreate', data.visitCreate.userErrors);
      if (refused) throw refused;
      if (!data.visitCreate.visit) throw new CalendarProviderError('rejected', 'Jobber returned no visit');
      return { id: data.visitCreate.visit.id };
    },

    async updateEvent(refreshToken, _calendarId, eventId, event) {
      const data = await gql<{ visitEditSchedule: { userErrors: UserError[] } }>(
        refreshToken,
        VISIT_EDIT_SCHEDULE,
        {
          id: eventId,
          input: { startAt: localDateTime(event.start), endAt: localDateTime(event.end) },
        },
      );
      const refused = userErrorOf('visitEditSchedule', data.visitEditSchedule.userErrors);
      if (refused) throw refused;
    },

    async deleteEvent(refreshToken, _calendarId, eventId) {
      const data = await gql<{ visitDelete: { userErrors: UserError[] } }>(refreshToken, VISIT_DELETE, {
        id: eventId,
      });
      const refused = userErrorOf('visitDelete', data.visitDelete.userErrors);
      // Already gone (deleted in Jobber): the goal is reached.
      if (refused && refused.kind !== 'not_found') throw refused;
    },

    async watch(_refreshToken, _calendarId, channel) {
      // Jobber's webhooks are configured once for the app, not per calendar: nothing to open.
      return {
        resourceId: JOBBER_WEBHOOK_RESOURCE,
        expiration: new Date(now() + channel.ttlSeconds * 1000).toISOString(),
      };
    },

    async stopChannel() {
      // Nothing to stop at Jobber (see watch).
    },

    onRefreshTokenRotated(listener) {
      rotated = listener;
    },
  };
}
