import type { ProviderEvent } from '../../domain/calendar-busy.ts';

export type { ProviderEvent } from '../../domain/calendar-busy.ts';

// What NMC needs from a calendar provider (Google first, Jobber second): OAuth consent
// and tokens, the account's calendars, event listings (full, then incremental by sync token),
// writing our bookings, and push channels. Events come back in the provider's own terms
// (`ProviderEvent`, Google's shape); turning them into busy blocks is a pure rule of the domain
// (src/domain/calendar-busy.ts). Failures are classified once, here (`CalendarProviderError`).

export type ExternalCalendar = {
  id: string;
  summary: string;
  time_zone: string;
  primary: boolean;
  /** owner | writer | reader | freeBusyReader */
  access_role: string;
};

export type EventListing = {
  events: ProviderEvent[];
  nextSyncToken: string | null;
  /** The calendar's own time zone (all-day events are days there). */
  timeZone: string | null;
  pages: number;
};

export type ListRequest =
  | { mode: 'full'; timeMin: string; timeMax: string }
  | { mode: 'incremental'; syncToken: string };

export type OurEvent = {
  /** The event id to create it under (inserts only), so a retried insert finds its event. */
  id?: string;
  summary: string;
  description: string;
  start: string;
  end: string;
  /** Our ids, kept in the event's private extended properties. */
  marker: Record<string, string>;
};

export type ChannelRequest = { channelId: string; token: string; address: string; ttlSeconds: number };

export type CalendarProviderErrorKind =
  /** The sync token is no longer valid: clear and list in full. */
  | 'gone'
  /** Try again later (429, 5xx, network); `retryAfterMs` when the provider said when. */
  | 'retryable'
  /** The grant was revoked or expired: the owner must connect again. */
  | 'unauthorized'
  /** The event or calendar is not there (deleted by someone, or never existed). */
  | 'not_found'
  | 'rejected';

export class CalendarProviderError extends Error {
  override name = 'CalendarProviderError';
  readonly kind: CalendarProviderErrorKind;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  constructor(
    kind: CalendarProviderErrorKind,
    message: string,
    options: { status?: number | null; retryAfterMs?: number | null; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

export interface CalendarProvider {
  readonly kind: 'google' | 'jobber';
  /** The consent page to send the owner to (authorization code + PKCE S256, offline access). */
  authorizationUrl(input: { state: string; codeChallenge: string; redirectUri: string }): string;
  /** Exchanges the code for the long-lived refresh token. */
  exchangeCode(input: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
  }): Promise<{ refreshToken: string; scope: string }>;
  revoke(refreshToken: string): Promise<void>;
  listCalendars(refreshToken: string): Promise<ExternalCalendar[]>;
  listEvents(refreshToken: string, calendarId: string, request: ListRequest): Promise<EventListing>;
  insertEvent(refreshToken: string, calendarId: string, event: OurEvent): Promise<{ id: string }>;
  updateEvent(refreshToken: string, calendarId: string, eventId: string, event: OurEvent): Promise<void>;
  deleteEvent(refreshToken: string, calendarId: string, eventId: string): Promise<void>;
  watch(
    refreshToken: string,
    calendarId: string,
    channel: ChannelRequest,
  ): Promise<{ resourceId: string; expiration: string }>;
  stopChannel(refreshToken: string, channel: { channelId: string; resourceId: string }): Promise<void>;
  /**
   * For a provider that may rotate refresh tokens (Jobber with Refresh Token Rotation on): the
   * listener gets each replaced token and its successor, to store in its place; the provider goes
   * on using the successor for calls made with the old one.
   */
  onRefreshTokenRotated?(listener: (previous: string, next: string) => Promise<void>): void;
}
