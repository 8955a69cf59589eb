import { describe, expect, it } from 'vitest';
import {
  busyChangeOf,
  busyChanges,
  OUR_MARKER,
  type ProviderEvent,
} from '../../../src/domain/calendar-busy.ts';

// Which events block time, as Google Calendar defines busy time: every rule with its edge cases.

const LA = 'America/Los_Angeles';
const ms = (iso: string) => Date.parse(iso);
const timed = (start: string, end: string, extra: Partial<ProviderEvent> = {}): ProviderEvent => ({
  id: 'e1',
  status: 'confirmed',
  start: { dateTime: start },
  end: { dateTime: end },
  ...extra,
});

describe('busyChangeOf', () => {
  it('a confirmed timed event is busy from its start to its end, offsets honoured', () => {
    expect(busyChangeOf(timed('2026-12-07T09:00:00-08:00', '2026-12-07T10:30:00-08:00'), LA)).toEqual({
      kind: 'busy',
      eventId: 'e1',
      start: ms('2026-12-07T17:00:00Z'),
      end: ms('2026-12-07T18:30:00Z'),
    });
  });

  it('a date-time in another zone than the calendar keeps its own offset', () => {
    const change = busyChangeOf(timed('2026-12-07T09:00:00+09:00', '2026-12-07T10:00:00+09:00'), LA);
    expect(change).toMatchObject({ kind: 'busy', start: ms('2026-12-07T00:00:00Z') });
  });

  it('a date-time without an offset is read in the event’s time zone, else the calendar’s', () => {
    const inEventZone = busyChangeOf(
      {
        id: 'e',
        start: { dateTime: '2026-07-01T09:00:00', timeZone: 'Europe/Berlin' },
        end: { dateTime: '2026-07-01T10:00:00', timeZone: 'Europe/Berlin' },
      },
      LA,
    );
    expect(inEventZone).toMatchObject({ kind: 'busy', start: ms('2026-07-01T07:00:00Z') });
    const inCalendarZone = busyChangeOf(
      { id: 'e', start: { dateTime: '2026-07-01T09:00:00' }, end: { dateTime: '2026-07-01T10:00:00' } },
      LA,
    );
    expect(inCalendarZone).toMatchObject({ kind: 'busy', start: ms('2026-07-01T16:00:00Z') });
  });

  it('an all-day event runs local midnight to local midnight of its exclusive end date', () => {
    const change = busyChangeOf({ id: 'd', start: { date: '2026-12-07' }, end: { date: '2026-12-08' } }, LA);
    expect(change).toEqual({
      kind: 'busy',
      eventId: 'd',
      start: ms('2026-12-07T08:00:00Z'),
      end: ms('2026-12-08T08:00:00Z'),
    });
  });

  it('a multi-day all-day event across a DST change spans the local days exactly (23 h day included)', () => {
    // 2026-03-08 is the spring-forward day in Los Angeles.
    const change = busyChangeOf({ id: 'd', start: { date: '2026-03-07' }, end: { date: '2026-03-09' } }, LA);
    expect(change).toMatchObject({ start: ms('2026-03-07T08:00:00Z'), end: ms('2026-03-09T07:00:00Z') });
    if (change.kind !== 'busy') throw new Error('busy expected');
    expect(change.end - change.start).toBe(47 * 3_600_000);
  });

  it('an all-day event is a day of the calendar’s zone, not of UTC', () => {
    const tokyo = busyChangeOf(
      { id: 'd', start: { date: '2026-12-07' }, end: { date: '2026-12-08' } },
      'Asia/Tokyo',
    );
    expect(tokyo).toMatchObject({ start: ms('2026-12-06T15:00:00Z'), end: ms('2026-12-07T15:00:00Z') });
  });

  it('cancelled events (deleted, or a cancelled instance of a recurring event) are free', () => {
    expect(
      busyChangeOf(timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', { status: 'cancelled' }), LA),
    ).toEqual({
      kind: 'free',
      eventId: 'e1',
      why: 'cancelled',
    });
    // An incremental listing's cancelled instance carries only its id and status.
    expect(
      busyChangeOf({ id: 'r_20261207T170000Z', status: 'cancelled', recurringEventId: 'r' }, LA),
    ).toMatchObject({
      kind: 'free',
      why: 'cancelled',
    });
  });

  it('tentative events are busy (Google shows them busy)', () => {
    expect(
      busyChangeOf(timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', { status: 'tentative' }), LA).kind,
    ).toBe('busy');
  });

  it('events marked free are free; opaque or unset transparency is busy', () => {
    const base = timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z');
    expect(busyChangeOf({ ...base, transparency: 'transparent' }, LA)).toMatchObject({
      kind: 'free',
      why: 'transparent',
    });
    expect(busyChangeOf({ ...base, transparency: 'opaque' }, LA).kind).toBe('busy');
    expect(busyChangeOf({ ...base, transparency: null }, LA).kind).toBe('busy');
    // An all-day event marked free (Google's default for all-day) blocks nothing.
    expect(
      busyChangeOf(
        { id: 'd', start: { date: '2026-12-07' }, end: { date: '2026-12-08' }, transparency: 'transparent' },
        LA,
      ).kind,
    ).toBe('free');
  });

  it('a declined invitation is free; accepted, tentative and unanswered ones are busy', () => {
    const base = timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z');
    const withSelf = (responseStatus: string) => ({
      ...base,
      attendees: [
        { self: false, responseStatus: 'accepted' },
        { self: true, responseStatus },
      ],
    });
    expect(busyChangeOf(withSelf('declined'), LA)).toMatchObject({ kind: 'free', why: 'declined' });
    for (const answer of ['accepted', 'tentative', 'needsAction']) {
      expect(busyChangeOf(withSelf(answer), LA).kind, answer).toBe('busy');
    }
    // Someone else declining does not free the owner's time.
    expect(busyChangeOf({ ...base, attendees: [{ self: false, responseStatus: 'declined' }] }, LA).kind).toBe(
      'busy',
    );
  });

  it('our own bookings are not mirrored back as busy', () => {
    const ours = timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', {
      extendedProperties: { private: { [OUR_MARKER]: '6f1c1f6e-0000-4000-8000-000000000001' } },
    });
    expect(busyChangeOf(ours, LA)).toMatchObject({ kind: 'free', why: 'ours' });
    const someoneElses = timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', {
      extendedProperties: { private: { other_app: 'x' } },
    });
    expect(busyChangeOf(someoneElses, LA).kind).toBe('busy');
  });

  it('working-location entries are free; out of office and focus time are busy', () => {
    const base = timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z');
    expect(busyChangeOf({ ...base, eventType: 'workingLocation' }, LA).kind).toBe('free');
    expect(busyChangeOf({ ...base, eventType: 'outOfOffice' }, LA).kind).toBe('busy');
    expect(busyChangeOf({ ...base, eventType: 'focusTime' }, LA).kind).toBe('busy');
  });

  it('events without readable times, or ending at or before they start, block nothing', () => {
    const cases: ProviderEvent[] = [
      { id: 'x' },
      { id: 'x', start: { dateTime: 'not a time' }, end: { dateTime: '2026-12-07T10:00:00Z' } },
      { id: 'x', start: { date: '2026-13-40' }, end: { date: '2026-12-08' } },
      timed('2026-12-07T10:00:00Z', '2026-12-07T10:00:00Z'),
      timed('2026-12-07T11:00:00Z', '2026-12-07T10:00:00Z'),
      { id: 'x', start: { dateTime: '2026-12-07T10:00:00Z' }, end: null },
    ];
    for (const event of cases)
      expect(busyChangeOf(event, LA)).toMatchObject({ kind: 'free', why: 'no_times' });
  });
});

describe('busyChanges', () => {
  it('keeps one change per event, the last listed winning, and skips events without an id', () => {
    const changes = busyChanges(
      [
        timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', { id: 'a' }),
        timed('2026-12-07T11:00:00Z', '2026-12-07T12:00:00Z', { id: 'b' }),
        { id: 'a', status: 'cancelled' },
        { id: '' },
      ],
      LA,
    );
    expect(changes).toEqual([
      { kind: 'busy', eventId: 'b', start: ms('2026-12-07T11:00:00Z'), end: ms('2026-12-07T12:00:00Z') },
      { kind: 'free', eventId: 'a', why: 'cancelled' },
    ]);
  });

  it('hostile ids are only ids', () => {
    const changes = busyChanges(
      ['__proto__', 'constructor', 'toString'].map((id) =>
        timed('2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', { id }),
      ),
      LA,
    );
    expect(changes.map((c) => c.eventId)).toEqual(['__proto__', 'constructor', 'toString']);
  });
});
