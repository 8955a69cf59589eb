import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';

// The sandbox's calendars and their events, kept the way Google Calendar keeps them for the API:
// - Every write bumps the calendar's change sequence and stamps the event with it; a sync token is
//   the sequence a listing reached, so an incremental listing returns exactly the events changed
//   since, deleted ones included (status `cancelled`, as Google keeps tombstones).
// - A recurring event is stored with its instances already expanded (what `singleEvents=true`
//   returns): instance ids are `<event id>_<start in UTC, basic format>`, each carries
//   `recurringEventId` and `originalStartTime`; editing one instance is an exception, deleting one
//   leaves a cancelled instance. Only the RRULE subset FREQ=DAILY|WEEKLY with COUNT is understood.
// - `expireSyncTokens` makes every token issued so far answer 410 `fullSyncRequired`.

export type EventTime = { dateTime?: string; date?: string; timeZone?: string };

export type SandboxEvent = {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  start: EventTime;
  end: EventTime;
  transparency?: 'opaque' | 'transparent';
  eventType?: string;
  attendees?: Array<{ email: string; self?: boolean; responseStatus?: string; organizer?: boolean }>;
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventTime;
  iCalUID: string;
};

type Stored = { event: SandboxEvent; seq: number; master: boolean };

export type SandboxCalendar = {
  id: string;
  summary: string;
  timeZone: string;
  primary: boolean;
  accessRole: 'owner' | 'writer' | 'reader';
  seq: number;
  events: Map<string, Stored>;
};

export type ListQuery = {
  syncToken?: string;
  pageToken?: string;
  timeMin?: string;
  timeMax?: string;
  singleEvents?: boolean;
  showDeleted?: boolean;
  maxResults?: number;
};

export type ListAnswer =
  | { kind: 'page'; items: SandboxEvent[]; nextPageToken?: string; nextSyncToken?: string; timeZone: string }
  | { kind: 'gone' }
  | { kind: 'invalid'; message: string };

const MAX_PAGE = 2500;
const DEFAULT_PAGE = 250;
const MAX_INSTANCES = 366;

export class CalendarStoreError extends Error {
  override name = 'CalendarStoreError';
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

function nowIso(): string {
  return new Date().toISOString();
}

function basicUtc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The instant an event time starts, all-day dates at local midnight in `zone`. */
export function instantOf(time: EventTime, zone: string): number {
  if (time.dateTime !== undefined) {
    const parsed = DateTime.fromISO(time.dateTime, { zone: time.timeZone ?? zone, setZone: true });
    return parsed.toMillis();
  }
  if (time.date !== undefined) return DateTime.fromISO(time.date, { zone }).startOf('day').toMillis();
  return Number.NaN;
}

function shifted(time: EventTime, deltaMs: number, zone: string): EventTime {
  if (time.date !== undefined) {
    const day = DateTime.fromISO(time.date, { zone }).plus({ milliseconds: deltaMs });
    return { date: day.toISODate() ?? time.date };
  }
  const at = DateTime.fromMillis(instantOf(time, zone) + deltaMs, { zone: time.timeZone ?? 'UTC' });
  return {
    dateTime: at.toISO({ suppressMilliseconds: true }) ?? '',
    ...(time.timeZone ? { timeZone: time.timeZone } : {}),
  };
}

/** FREQ=DAILY|WEEKLY;COUNT=n (INTERVAL optional): the offsets of each occurrence from the first. */
function occurrenceOffsets(recurrence: readonly string[]): number[] {
  const rule = recurrence.find((line) => line.startsWith('RRULE:'));
  if (!rule) return [0];
  const parts = Object.fromEntries(
    rule
      .slice('RRULE:'.length)
      .split(';')
      .map((p) => p.split('=') as [string, string]),
  );
  const step = parts.FREQ === 'DAILY' ? 1 : parts.FREQ === 'WEEKLY' ? 7 : null;
  const count = Number(parts.COUNT);
  const interval = parts.INTERVAL === undefined ? 1 : Number(parts.INTERVAL);
  if (step === null || !Number.isInteger(count) || count < 1 || count > MAX_INSTANCES) {
    throw new CalendarStoreError(
      400,
      'invalid',
      'the sandbox understands RRULE FREQ=DAILY|WEEKLY with COUNT',
    );
  }
  return Array.from({ length: count }, (_, i) => i * step * interval * 86_400_000);
}

export type CalendarStore = ReturnType<typeof createCalendarStore>;

export function createCalendarStore(options: { owner: string; timeZone: string }) {
  const calendars = new Map<string, SandboxCalendar>();
  let epoch = randomBytes(4).toString('hex');
  let idCounter = 0;

  function addCalendar(input: { id: string; summary: string; timeZone?: string; primary?: boolean }) {
    const calendar: SandboxCalendar = {
      id: input.id,
      summary: input.summary,
      timeZone: input.timeZone ?? options.timeZone,
      primary: input.primary === true,
      accessRole: 'owner',
      seq: 0,
      events: new Map(),
    };
    calendars.set(calendar.id, calendar);
    return calendar;
  }

  function resolve(calendarId: string): SandboxCalendar {
    const id = calendarId === 'primary' ? options.owner : calendarId;
    const calendar = calendars.get(id);
    if (!calendar) throw new CalendarStoreError(404, 'notFound', 'Not Found');
    return calendar;
  }

  function put(calendar: SandboxCalendar, event: SandboxEvent, master: boolean): SandboxEvent {
    calendar.seq += 1;
    const stamped = { ...event, etag: `"${calendar.seq}"`, updated: nowIso() };
    calendar.events.set(event.id, { event: stamped, seq: calendar.seq, master });
    return stamped;
  }

  function newId(): string {
    idCounter += 1;
    return `ev${idCounter.toString(36)}${randomBytes(5).toString('hex')}`;
  }

  function validateTimes(input: Partial<SandboxEvent>): void {
    const { start, end } = input;
    if (!start || !end || (start.dateTime === undefined && start.date === undefined)) {
      throw new CalendarStoreError(400, 'required', 'Missing start or end time.');
    }
    const zone = options.timeZone;
    const s = instantOf(start, zone);
    const e = instantOf(end, zone);
    if (Number.isNaN(s) || Number.isNaN(e))
      throw new CalendarStoreError(400, 'invalid', 'Invalid start or end.');
    if (e <= s) throw new CalendarStoreError(400, 'timeRangeEmpty', 'The specified time range is empty.');
  }

  function insert(calendarId: string, input: Partial<SandboxEvent>): SandboxEvent {
    const calendar = resolve(calendarId);
    validateTimes(input);
    const id = input.id ?? newId();
    if (calendar.events.has(id))
      throw new CalendarStoreError(409, 'duplicate', 'The requested identifier already exists.');
    const created = nowIso();
    const base: SandboxEvent = {
      kind: 'calendar#event',
      etag: '',
      id,
      status: input.status === 'tentative' ? 'tentative' : 'confirmed',
      htmlLink: `https://calendar.sandbox.invalid/event?eid=${id}`,
      created,
      updated: created,
      iCalUID: `${id}@sandbox.invalid`,
      eventType: input.eventType ?? 'default',
      start: input.start as EventTime,
      end: input.end as EventTime,
      ...(input.summary === undefined ? {} : { summary: input.summary }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.transparency === undefined ? {} : { transparency: input.transparency }),
      ...(input.attendees === undefined ? {} : { attendees: input.attendees }),
      ...(input.extendedProperties === undefined ? {} : { extendedProperties: input.extendedProperties }),
    };
    if (!input.recurrence || input.recurrence.length === 0) return put(calendar, base, false);
    const offsets = occurrenceOffsets(input.recurrence);
    const master = put(calendar, { ...base, recurrence: input.recurrence }, true);
    for (const offset of offsets) {
      const start = shifted(base.start, offset, calendar.timeZone);
      const startMs = instantOf(start, calendar.timeZone);
      put(
        calendar,
        {
          ...base,
          id: `${id}_${base.start.date !== undefined ? (start.date ?? '').replace(/-/g, '') : basicUtc(startMs)}`,
          start,
          end: shifted(base.end, offset, calendar.timeZone),
          recurringEventId: id,
          originalStartTime: start,
        },
        false,
      );
    }
    return master;
  }

  function get(calendarId: string, eventId: string): SandboxEvent {
    const stored = resolve(calendarId).events.get(eventId);
    if (!stored) throw new CalendarStoreError(404, 'notFound', 'Not Found');
    return stored.event;
  }

  function patch(calendarId: string, eventId: string, changes: Partial<SandboxEvent>): SandboxEvent {
    const calendar = resolve(calendarId);
    const stored = calendar.events.get(eventId);
    if (!stored || stored.event.status === 'cancelled')
      throw new CalendarStoreError(404, 'notFound', 'Not Found');
    const next: SandboxEvent = { ...stored.event };
    for (const key of [
      'summary',
      'description',
      'start',
      'end',
      'transparency',
      'attendees',
      'extendedProperties',
      'status',
    ] as const) {
      if (changes[key] !== undefined) (next as Record<string, unknown>)[key] = changes[key];
    }
    validateTimes(next);
    return put(calendar, next, stored.master);
  }

  function remove(calendarId: string, eventId: string): void {
    const calendar = resolve(calendarId);
    const stored = calendar.events.get(eventId);
    if (!stored || stored.event.status === 'cancelled')
      throw new CalendarStoreError(410, 'deleted', 'Resource has been deleted');
    put(calendar, { ...stored.event, status: 'cancelled' }, stored.master);
    if (stored.master) {
      for (const other of [...calendar.events.values()]) {
        if (other.event.recurringEventId === eventId && other.event.status !== 'cancelled') {
          put(calendar, { ...other.event, status: 'cancelled' }, false);
        }
      }
    }
  }

  function encodeToken(payload: Record<string, unknown>): string {
    return Buffer.from(JSON.stringify({ ...payload, epoch })).toString('base64url');
  }

  function decodeToken(token: string): Record<string, unknown> | null {
    try {
      const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
      return typeof value === 'object' && value !== null ? value : null;
    } catch {
      return null;
    }
  }

  function list(calendarId: string, query: ListQuery): ListAnswer {
    const calendar = resolve(calendarId);
    let q = query;
    let offset = 0;
    let snapshotSeq = calendar.seq;
    if (query.pageToken) {
      const page = decodeToken(query.pageToken);
      if (!page || page.calendar !== calendar.id) return { kind: 'invalid', message: 'Invalid page token.' };
      q = page.query as ListQuery;
      offset = Number(page.offset);
      snapshotSeq = Number(page.seq);
    }
    let sinceSeq: number | null = null;
    if (q.syncToken) {
      if (q.timeMin || q.timeMax)
        return { kind: 'invalid', message: 'syncToken cannot be used with timeMin or timeMax.' };
      const sync = decodeToken(q.syncToken);
      if (!sync || sync.calendar !== calendar.id) return { kind: 'invalid', message: 'Invalid sync token.' };
      if (sync.epoch !== epoch) return { kind: 'gone' };
      sinceSeq = Number(sync.seq);
    }
    const minMs = q.timeMin ? Date.parse(q.timeMin) : Number.NEGATIVE_INFINITY;
    const maxMs = q.timeMax ? Date.parse(q.timeMax) : Number.POSITIVE_INFINITY;
    const single = q.singleEvents === true;
    const matching = [...calendar.events.values()]
      .filter((s) => s.seq <= snapshotSeq)
      .filter((s) => (single ? !s.master : s.event.recurringEventId === undefined))
      .filter((s) => (sinceSeq === null ? true : s.seq > sinceSeq))
      .filter((s) => sinceSeq !== null || q.showDeleted === true || s.event.status !== 'cancelled')
      .filter((s) => {
        if (sinceSeq !== null || s.master) return true;
        const start = instantOf(s.event.start, calendar.timeZone);
        const end = instantOf(s.event.end, calendar.timeZone);
        return end > minMs && start < maxMs;
      })
      .sort((a, b) => a.seq - b.seq)
      .map((s) => s.event);
    const size = Math.min(Math.max(q.maxResults ?? DEFAULT_PAGE, 1), MAX_PAGE);
    const items = matching.slice(offset, offset + size);
    const more = offset + size < matching.length;
    return {
      kind: 'page',
      items,
      timeZone: calendar.timeZone,
      ...(more
        ? {
            nextPageToken: encodeToken({
              calendar: calendar.id,
              query: q,
              offset: offset + size,
              seq: snapshotSeq,
            }),
          }
        : { nextSyncToken: encodeToken({ calendar: calendar.id, seq: snapshotSeq }) }),
    };
  }

  return {
    calendars,
    addCalendar,
    resolve,
    insert,
    get,
    patch,
    remove,
    list,
    /** Every sync token issued so far now answers 410 Gone. */
    expireSyncTokens() {
      epoch = randomBytes(4).toString('hex');
    },
    reset() {
      for (const calendar of calendars.values()) {
        calendar.events.clear();
        calendar.seq = 0;
      }
      epoch = randomBytes(4).toString('hex');
    },
  };
}
