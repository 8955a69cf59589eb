import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_GOOGLE_ACCOUNT,
  SANDBOX_SECOND_CALENDAR,
} from '../../../src/providers/google/sandbox/server.ts';
import { appOf, call } from '../../helpers/operator-api.ts';
import { waitFor } from '../../helpers/system.ts';
import { type CalendarFixture, startCalendarFixture } from './calendar-fixture.ts';

// The Google sandbox and the real googleapis client together, through the whole system: an owner
// connects the demo resource, the first full sync mirrors the calendar, a change made "in Google
// Calendar" arrives by push and takes the slot out of availability, and the kinds of events Google
// defines as not busy stay out of the mirror.

let f: CalendarFixture;
let calendarId: string;

beforeAll(async () => {
  f = await startCalendarFixture();
});
afterAll(async () => {
  await f?.stop();
});

const at = (ms: number) => new Date(ms).toISOString();
const window = (slot: { start: string; end: string }) =>
  [at(Date.parse(slot.start) - 3_600_000), at(Date.parse(slot.end) + 3_600_000)] as const;

describe('connecting a calendar', () => {
  it('asks Google for offline access with PKCE and only the calendar scopes it needs', async () => {
    const started = await f.api('GET', `/api/v1/resources/${f.resourceId}/calendar/connect?redirect=false`);
    const url = new URL((started.body as { authorization_url: string }).authorization_url);
    expect(url.pathname).toBe('/o/oauth2/v2/auth');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toBe(`${f.t.baseUrl}/api/v1/calendar/oauth/callback`);
    expect(url.searchParams.get('scope')?.split(' ').sort()).toEqual([
      'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
      'https://www.googleapis.com/auth/calendar.events',
    ]);
    // The state is opaque and kept server-side (only its hash is stored).
    const state = url.searchParams.get('state') ?? '';
    const stored = await f.t.system.db.query('SELECT state_hash FROM sched_calendar_oauth_states');
    expect(stored.rows.map((r) => (r.state_hash as Buffer).toString('utf8'))).not.toContain(state);
  });

  it('the default is a redirect to the consent page', async () => {
    const res = await f.api('GET', `/api/v1/resources/${f.resourceId}/calendar/connect`);
    expect(res.status).toBe(302);
    expect(String(res.headers.location)).toContain('/o/oauth2/v2/auth?');
  });

  it('refuses a callback with an unknown state, and a refused consent', async () => {
    const unknown = await f.api(
      'GET',
      '/api/v1/calendar/oauth/callback?state=aaaaaaaaaaaaaaaaaaaaaaaa&code=x',
    );
    expect(unknown.status).toBe(400);
    f.google.denyNextConsent();
    const started = await f.api('GET', `/api/v1/resources/${f.resourceId}/calendar/connect?redirect=false`);
    const consent = await fetch((started.body as { authorization_url: string }).authorization_url, {
      redirect: 'manual',
    });
    const back = new URL(consent.headers.get('location') ?? '');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const res = await f.api('GET', `${back.pathname}${back.search}`);
    expect(res.status).toBe(400);
    // A browser lands in the web app either way.
    const browser = await call(appOf(f.t.system), {
      method: 'GET',
      url: '/api/v1/calendar/oauth/callback?state=bbbbbbbbbbbbbbbbbbbbbbbb&code=x',
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(browser.status).toBe(302);
    expect(String(browser.headers.location)).toBe(
      `${f.t.baseUrl}/app/calendar?calendar_error=validation_failed`,
    );
    const connections = await f.api('GET', '/api/v1/calendars');
    expect((connections.body as { items: unknown[] }).items).toEqual([]);
  });

  it('links the primary calendar, syncs it in full and opens a push channel right after the callback', async () => {
    // Something already in the calendar before the connection.
    const slot = await f.freeSlot(3);
    f.google.addEvent({ summary: 'Dentist', start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    const connected = await f.connect();
    calendarId = connected.calendarId;
    const state = await f.calendarState();
    expect(state).toMatchObject({ mode: 'push', mirrored_blocks: 1, sync_error: null });
    expect(f.google.channels.liveChannels()).toHaveLength(1);
    expect(f.google.consents().at(-1)?.accessType).toBe('offline');
    const day = await f.freeStarts(
      at(Date.parse(slot.start) - 3_600_000),
      at(Date.parse(slot.end) + 3_600_000),
    );
    expect(day).not.toContain(slot.start);
    const resources = await f.api('GET', '/api/v1/resources');
    expect((resources.body as { items: Array<{ id: string; calendar_kind: string }> }).items).toContainEqual(
      expect.objectContaining({ id: f.resourceId, calendar_kind: 'google' }),
    );
    const view = await f.api('GET', `/api/v1/resources/${f.resourceId}/calendar`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      connection: { account: SANDBOX_GOOGLE_ACCOUNT, status: 'active' },
      account_calendars: expect.arrayContaining([
        expect.objectContaining({
          external_id: SANDBOX_GOOGLE_ACCOUNT,
          primary: true,
          blocks_time: true,
          receives_bookings: true,
        }),
        expect.objectContaining({ primary: false, blocks_time: false }),
      ]),
    });
  });

  it('keeps no usable token in the database: the stored bytes hold neither token nor its parts', async () => {
    const [refreshToken] = f.google.liveRefreshTokens();
    expect(refreshToken).toBeDefined();
    const { rows } = await f.t.system.db.query(
      'SELECT token_key_id, token_ciphertext, scope FROM sched_calendar_connections',
    );
    expect(rows).toHaveLength(1);
    const bytes = rows[0].token_ciphertext as Buffer;
    const token = refreshToken ?? '';
    for (const encoding of ['utf8', 'base64', 'hex', 'base64url'] as const) {
      expect(bytes.toString(encoding)).not.toContain(token);
      expect(bytes.toString(encoding)).not.toContain(token.slice(-16));
    }
    expect(bytes.includes(Buffer.from(token.slice(-12)))).toBe(false);
    // Nowhere else either: a dump of every text column of the calendar tables.
    const dump = await f.t.system.db.query(
      `SELECT string_agg(t::text, ' ') AS all FROM (
         SELECT to_jsonb(c) AS t FROM sched_calendar_connections c
         UNION ALL SELECT to_jsonb(l) FROM sched_calendar_links l) x`,
    );
    expect(String(dump.rows[0].all)).not.toContain(token.slice(-16));
  });
});

describe('mirroring changes', () => {
  it('an event added in Google reaches availability by push within 2 s', async () => {
    const slot = await f.freeSlot(4);
    const before = await f.calendarState();
    const added = Date.now();
    f.google.addEvent({
      summary: 'School run',
      start: { dateTime: slot.start },
      end: { dateTime: slot.end },
    });
    await waitFor(async () => {
      const starts = await f.freeStarts(
        at(Date.parse(slot.start) - 3_600_000),
        at(Date.parse(slot.end) + 3_600_000),
      );
      return !starts.includes(slot.start);
    }, 2_000);
    const elapsed = Date.now() - added;
    expect(elapsed).toBeLessThan(2_000);
    const after = await f.calendarState();
    expect(after?.last_push_at).not.toBe(before?.last_push_at);
    console.info(`push → slot gone in ${elapsed} ms`);
  });

  it('the demo route adds a busy event to the sandbox calendar as its owner would; the slot vanishes', async () => {
    const slot = await f.freeSlot(12);
    const res = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/sandbox-events`, {
      summary: 'Demo busy',
      start: slot.start,
      end: slot.end,
    });
    expect(res.status, res.raw).toBe(201);
    expect(res.body).toMatchObject({ calendar: SANDBOX_GOOGLE_ACCOUNT });
    await waitFor(async () => !(await f.freeStarts(...window(slot))).includes(slot.start), 2_000);
    const backwards = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/sandbox-events`, {
      start: slot.end,
      end: slot.start,
    });
    expect(backwards.status).toBe(400);
  });

  it('a deleted event frees its slot again', async () => {
    const slot = await f.freeSlot(5);
    const event = f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    const window = [at(Date.parse(slot.start) - 3_600_000), at(Date.parse(slot.end) + 3_600_000)] as const;
    await waitFor(async () => !(await f.freeStarts(...window)).includes(slot.start));
    f.google.deleteEvent(event.id);
    await waitFor(async () => (await f.freeStarts(...window)).includes(slot.start));
  });

  it('leaves out what Google does not count as busy: free, declined, working location, our own', async () => {
    const slot = await f.freeSlot(6);
    const window = [at(Date.parse(slot.start) - 3_600_000), at(Date.parse(slot.end) + 3_600_000)] as const;
    const timed = { start: { dateTime: slot.start }, end: { dateTime: slot.end } };
    const mirroredIds = async () =>
      (
        await f.t.system.db.query('SELECT external_id FROM sched_external_busy WHERE calendar_id = $1', [
          calendarId,
        ])
      ).rows.map((r) => String(r.external_id).slice(calendarId.length + 1));
    const free = [];
    free.push(f.google.addEvent({ ...timed, summary: 'Marked free', transparency: 'transparent' }));
    free.push(
      f.google.addEvent({
        ...timed,
        summary: 'Declined invitation',
        attendees: [
          { email: SANDBOX_GOOGLE_ACCOUNT, self: true, responseStatus: 'declined' },
          { email: 'boss@example.com', organizer: true, responseStatus: 'accepted' },
        ],
      }),
    );
    free.push(f.google.addEvent({ ...timed, summary: 'Working from office', eventType: 'workingLocation' }));
    free.push(
      f.google.addEvent({
        ...timed,
        summary: 'Drain cleaning',
        extendedProperties: { private: { nmc_appointment_id: '00000000-0000-4000-8000-000000000000' } },
      }),
    );
    // A busy event added last: once it is mirrored, the four before it have been seen too.
    const marker = f.google.addEvent({
      summary: 'marker',
      start: { dateTime: window[1] },
      end: { dateTime: at(Date.parse(window[1]) + 1_800_000) },
    });
    await waitFor(async () => (await mirroredIds()).includes(marker.id));
    const ids = await mirroredIds();
    for (const event of free) expect(ids, event.summary).not.toContain(event.id);
    expect(await f.freeStarts(...window)).toContain(slot.start);
    f.google.deleteEvent(marker.id);
  });

  it('an accepted invitation and a tentative event are busy', async () => {
    const slot = await f.freeSlot(7);
    const window = [at(Date.parse(slot.start) - 3_600_000), at(Date.parse(slot.end) + 3_600_000)] as const;
    f.google.addEvent({
      start: { dateTime: slot.start },
      end: { dateTime: slot.end },
      status: 'tentative',
      attendees: [{ email: SANDBOX_GOOGLE_ACCOUNT, self: true, responseStatus: 'accepted' }],
    });
    await waitFor(async () => !(await f.freeStarts(...window)).includes(slot.start));
  });

  it('an all-day event blocks the whole local day in the calendar’s time zone', async () => {
    const slot = await f.freeSlot(8);
    // The local date of the slot in Los Angeles (the sandbox calendar's zone).
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(
      new Date(slot.start),
    );
    const next = new Date(Date.parse(`${day}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    f.google.addEvent({ summary: 'Vacation day', start: { date: day }, end: { date: next } });
    await waitFor(async () => {
      const starts = await f.freeStarts(`${day}T00:00:00Z`, `${next}T23:59:00Z`);
      return starts.every(
        (s) =>
          new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(new Date(s)) !== day,
      );
    });
    const { rows } = await f.t.system.db.query(
      `SELECT lower(timeslot) AS s, upper(timeslot) AS e FROM sched_external_busy
       WHERE calendar_id = $1 AND upper(timeslot) - lower(timeslot) >= interval '23 hours'`,
      [calendarId],
    );
    expect(rows).toHaveLength(1);
    // Local midnight to local midnight (PST/PDT: 07:00 or 08:00 UTC).
    expect((rows[0].s as Date).toISOString()).toMatch(new RegExp(`^${day}T0[78]:00:00.000Z$`));
  });

  it('a recurring event blocks each instance; a moved exception moves, a cancelled one frees', async () => {
    const slot = await f.freeSlot(9);
    const master = f.google.addEvent({
      summary: 'Weekly standup',
      start: { dateTime: slot.start, timeZone: 'America/Los_Angeles' },
      end: { dateTime: slot.end, timeZone: 'America/Los_Angeles' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    });
    const instances = f.google.events().filter((e) => e.recurringEventId === master.id);
    expect(instances).toHaveLength(3);
    await waitFor(async () => {
      const { rows } = await f.t.system.db.query(
        'SELECT count(*)::int AS n FROM sched_external_busy WHERE calendar_id = $1 AND external_id LIKE $2',
        [calendarId, `%:${master.id}_%`],
      );
      return rows[0].n === 3;
    });
    const [first, second] = instances;
    if (!first || !second) throw new Error('instances missing');
    // The first instance moved an hour later (an exception), the second cancelled.
    const later = (iso: string | undefined) => at(Date.parse(iso ?? '') + 3_600_000);
    f.google.updateEvent(first.id, {
      start: { dateTime: later(first.start.dateTime) },
      end: { dateTime: later(first.end.dateTime) },
    });
    f.google.deleteEvent(second.id);
    await waitFor(async () => {
      const { rows } = await f.t.system.db.query(
        `SELECT external_id, lower(timeslot) AS s FROM sched_external_busy WHERE calendar_id = $1 AND external_id LIKE $2
         ORDER BY 2`,
        [calendarId, `%:${master.id}_%`],
      );
      const moved = Date.parse(later(first.start.dateTime));
      return rows.length === 2 && (rows[0].s as Date).getTime() === moved;
    });
  });

  it('a 410 Gone to the sync token clears the token and resyncs in full', async () => {
    const before = await f.calendarState();
    f.google.expireSyncTokens();
    const slot = await f.freeSlot(10);
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    await waitFor(async () => {
      const state = await f.calendarState();
      return state && state.last_full_sync_at !== before?.last_full_sync_at ? state : null;
    });
    expect(f.t.logLines().some((l) => l.includes('410'))).toBe(true);
    await waitFor(async () => !(await f.freeStarts(...window(slot))).includes(slot.start));
    const gone = f.google.requests().filter((r) => r.status === 410);
    expect(gone.length).toBeGreaterThanOrEqual(1);
  });

  it('a token refreshed after its access token expired keeps syncing', async () => {
    f.google.expireAccessTokens();
    const slot = await f.freeSlot(11);
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    const window = [at(Date.parse(slot.start) - 3_600_000), at(Date.parse(slot.end) + 3_600_000)] as const;
    await waitFor(async () => !(await f.freeStarts(...window)).includes(slot.start));
  });
});

describe('picking calendars', () => {
  it('a second calendar can block time and receive the bookings; at most one receives them', async () => {
    const two = await f.api('PUT', `/api/v1/resources/${f.resourceId}/calendar/calendars`, {
      calendars: [
        { external_id: SANDBOX_GOOGLE_ACCOUNT, blocks_time: true, receives_bookings: true },
        { external_id: SANDBOX_SECOND_CALENDAR, blocks_time: true, receives_bookings: true },
      ],
    });
    expect(two.status).toBe(400);
    const unknown = await f.api('PUT', `/api/v1/resources/${f.resourceId}/calendar/calendars`, {
      calendars: [{ external_id: 'someone-else@example.com', blocks_time: true, receives_bookings: false }],
    });
    expect(unknown.status).toBe(400);

    const res = await f.api('PUT', `/api/v1/resources/${f.resourceId}/calendar/calendars`, {
      calendars: [
        { external_id: SANDBOX_GOOGLE_ACCOUNT, blocks_time: true, receives_bookings: false },
        { external_id: SANDBOX_SECOND_CALENDAR, blocks_time: true, receives_bookings: true },
      ],
    });
    expect(res.status, res.raw).toBe(200);
    const calendars = (res.body as { calendars: Array<{ external_id: string; receives_bookings: boolean }> })
      .calendars;
    expect(calendars.find((c) => c.receives_bookings)?.external_id).toBe(SANDBOX_SECOND_CALENDAR);

    // Busy time in the second calendar now hides slots too (after its first sync and channel).
    await waitFor(() => Promise.resolve(f.google.channels.liveChannels().length === 2));
    const slot = await f.freeSlot(2);
    f.google.addEvent(
      { summary: 'Job elsewhere', start: { dateTime: slot.start }, end: { dateTime: slot.end } },
      SANDBOX_SECOND_CALENDAR,
    );
    await waitFor(async () => !(await f.freeStarts(...window(slot))).includes(slot.start));

    // A booking goes to the calendar that receives them.
    const next = await f.freeSlot(2);
    const hold = await f.api('POST', '/api/v1/holds', {
      service_id: f.serviceId,
      resource_id: f.resourceId,
      start: next.start,
    });
    const booked = await f.api('POST', `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`);
    const id = (booked.body as { id: string }).id;
    await waitFor(() =>
      Promise.resolve(
        f.google
          .events(SANDBOX_SECOND_CALENDAR)
          .some((e) => e.extendedProperties?.private?.nmc_appointment_id === id),
      ),
    );
    expect(f.google.events().some((e) => e.extendedProperties?.private?.nmc_appointment_id === id)).toBe(
      false,
    );

    // Dropping a calendar from blocking time drops its mirror and its channel.
    const drop = await f.api('PUT', `/api/v1/resources/${f.resourceId}/calendar/calendars`, {
      calendars: [{ external_id: SANDBOX_GOOGLE_ACCOUNT, blocks_time: true, receives_bookings: true }],
    });
    expect(drop.status).toBe(200);
    expect(f.google.channels.liveChannels()).toHaveLength(1);
    expect(await f.freeStarts(...window(slot))).toContain(slot.start);
  });
});

describe('disconnecting', () => {
  it('revokes the grant, stops the channel and removes the mirror', async () => {
    const res = await f.api('DELETE', `/api/v1/resources/${f.resourceId}/calendar`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ disconnected: true });
    expect(f.google.liveRefreshTokens()).toEqual([]);
    expect(f.google.channels.liveChannels()).toEqual([]);
    const { rows } = await f.t.system.db.query('SELECT count(*)::int AS n FROM sched_external_busy');
    expect(rows[0].n).toBe(0);
    const resources = await f.api('GET', '/api/v1/resources');
    expect((resources.body as { items: Array<{ id: string; calendar_kind: string }> }).items).toContainEqual(
      expect.objectContaining({ id: f.resourceId, calendar_kind: 'internal' }),
    );
    const again = await f.api('DELETE', `/api/v1/resources/${f.resourceId}/calendar`);
    expect(again.body).toEqual({ disconnected: false });
  });
});
