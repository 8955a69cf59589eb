import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import type { CalendarDeps } from '../../../src/runtime/calendar/calendar-deps.ts';
import { sweepCalendars } from '../../../src/runtime/calendar/sweep.ts';
import { runSyncJob, type SyncJob } from '../../../src/runtime/calendar/sync-jobs.ts';
import { QUEUES } from '../../../src/runtime/job-queues.ts';
import { waitFor } from '../../helpers/system.ts';
import { type CalendarFixture, startCalendarFixture } from './calendar-fixture.ts';

// Google's pushes, checked and coalesced, and what keeps a calendar fresh when they stop: a forged
// push is refused before anything is written or queued; a redelivered message does nothing; ten
// pushes make one sync; a calendar whose channel died is polled, and push resumes on a new channel;
// channels are renewed before they expire; a 429 with Retry-After is retried after it.

let f: CalendarFixture;
let calendar: CalendarDeps;
let calendarId: string;

const at = (ms: number) => new Date(ms).toISOString();
const around = (slot: { start: string; end: string }) =>
  [at(Date.parse(slot.start) - 3_600_000), at(Date.parse(slot.end) + 3_600_000)] as const;

async function syncJobs(): Promise<number> {
  const { rows } = await f.t.system.db.query(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2`,
    [QUEUES.calendarSync, calendarId],
  );
  return rows[0].n as number;
}

async function linkRow() {
  const { rows } = await f.t.system.db.query(
    'SELECT channel_id, last_message_number, last_push_at FROM sched_calendar_links WHERE id = $1',
    [calendarId],
  );
  return rows[0] as { channel_id: string; last_message_number: number | null; last_push_at: Date | null };
}

/** No sync of the calendar waiting or running (a test's change is then seen only by what it triggers). */
async function idle(): Promise<void> {
  await f.google.settle();
  await waitFor(async () => {
    const { rows } = await f.t.system.db.query(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state < 'completed'`,
      [QUEUES.calendarSync, calendarId],
    );
    return rows[0].n === 0;
  }, 10_000);
}

/** The channel the calendar uses now (the sandbox may still hold channels we replaced). */
async function ourChannel() {
  const id = (await linkRow()).channel_id;
  const channel = f.google.channels.liveChannels().find((c) => c.id === id);
  if (!channel) throw new Error('no live channel');
  return channel;
}

function push(headers: Record<string, string>) {
  return fetch(`${f.t.baseUrl}/webhooks/google/calendar`, { method: 'POST', headers });
}

beforeAll(async () => {
  f = await startCalendarFixture();
  if (!f.t.system.calendar) throw new Error('no calendar runtime');
  calendar = f.t.system.calendar;
  calendarId = (await f.connect()).calendarId;
  await f.google.settle();
});
afterAll(async () => {
  await f?.stop();
});

describe('the push webhook', () => {
  it('refuses a forged push (wrong token, unknown channel, no token) with 403: nothing written, nothing queued', async () => {
    const channel = f.google.channels.liveChannels()[0];
    if (!channel) throw new Error('no live channel');
    const before = { jobs: await syncJobs(), link: await linkRow() };
    const valid = {
      'x-goog-channel-id': channel.id,
      'x-goog-channel-token': channel.token ?? '',
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '999',
    };
    const forged = [
      { ...valid, 'x-goog-channel-token': 'guessed-token' },
      { ...valid, 'x-goog-channel-id': '00000000-0000-4000-8000-000000000000' },
      { ...valid, 'x-goog-channel-id': 'not-a-uuid' },
      Object.fromEntries(Object.entries(valid).filter(([k]) => k !== 'x-goog-channel-token')),
      { ...valid, 'x-goog-resource-id': 'another-resource' },
      {},
    ];
    for (const headers of forged) {
      const res = await push(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('signature_invalid');
    }
    expect(await syncJobs()).toBe(before.jobs);
    expect(await linkRow()).toEqual(before.link);
  });

  it('a redelivered or older message number does nothing; a new one queues a sync', async () => {
    const channel = f.google.channels.liveChannels()[0];
    if (!channel) throw new Error('no live channel');
    await idle();
    const jobs = await syncJobs();
    const last = (await linkRow()).last_message_number ?? 0;
    expect(await f.google.channels.replay(channel.id, { messageNumber: last })).toBe(200);
    expect(await f.google.channels.replay(channel.id, { messageNumber: Math.max(1, last - 1) })).toBe(200);
    expect(await syncJobs()).toBe(jobs);
    expect(await f.google.channels.replay(channel.id, { messageNumber: last + 1 })).toBe(200);
    expect(await syncJobs()).toBe(jobs + 1);
  });
});

describe('when pushes stop', () => {
  it('a dropped channel: polling keeps the mirror fresh, and a new channel brings pushes back', async () => {
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.poll_after_seconds', 1);
    const channel = f.google.channels.liveChannels()[0];
    if (!channel) throw new Error('no live channel');
    await idle();
    // Google dropped the channel on its side; we were not told.
    f.google.channels.expire(channel.id);
    const slot = await f.freeSlot(3);
    f.google.addEvent({
      summary: 'Unannounced',
      start: { dateTime: slot.start },
      end: { dateTime: slot.end },
    });
    await f.google.settle();
    expect(await f.freeStarts(...around(slot))).toContain(slot.start);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await f.calendarState())?.mode).toBe('poll');
    const swept = await sweepCalendars(calendar);
    expect(swept.polled).toBe(1);
    await waitFor(async () => !(await f.freeStarts(...around(slot))).includes(slot.start));
    // The poll found a change no push announced: a new channel replaces the dead one.
    await waitFor(
      async () =>
        f.google.channels.liveChannels().length === 1 && (await linkRow()).channel_id !== channel.id,
    );
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.poll_after_seconds', 600);
    const next = await f.freeSlot(4);
    const added = Date.now();
    f.google.addEvent({ start: { dateTime: next.start }, end: { dateTime: next.end } });
    await waitFor(async () => !(await f.freeStarts(...around(next))).includes(next.start), 2_000);
    expect(Date.now() - added).toBeLessThan(2_000);
    expect((await f.calendarState())?.mode).toBe('push');
  });

  it('pushes dropped on a live channel: the poll still finds the change', async () => {
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.poll_after_seconds', 1);
    await idle();
    f.google.dropAllPushes(true);
    const slot = await f.freeSlot(5);
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await f.freeStarts(...around(slot))).toContain(slot.start);
    await sweepCalendars(calendar);
    await waitFor(async () => !(await f.freeStarts(...around(slot))).includes(slot.start));
    expect(f.google.deliveries().some((d) => d.dropped)).toBe(true);
    f.google.dropAllPushes(false);
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.poll_after_seconds', 600);
  });
});

describe('channel renewal', () => {
  it('renews a channel before it expires: the new one opens, then the old one stops', async () => {
    await idle();
    const old = (await linkRow()).channel_id;
    const before = await f.calendarState();
    // Seven days of life, renewed when at most 168 hours are left: renew now.
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.channel_renew_before_hours', 168);
    const swept = await sweepCalendars(calendar);
    expect(swept.channels).toBe(1);
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.channel_renew_before_hours', 24);
    const renewed = await linkRow();
    expect(renewed.channel_id).not.toBe(old);
    const live = f.google.channels.liveChannels();
    expect(live.map((c) => c.id)).toEqual([renewed.channel_id]);
    expect(f.google.channels.channels().find((c) => c.id === old)?.stopped).toBe(true);
    const after = await f.calendarState();
    expect(Date.parse(after?.channel_expires_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(before?.channel_expires_at ?? ''),
    );
    // A push on the old channel is now refused; the new one works.
    expect(await f.google.channels.replay(old ?? '', { messageNumber: 10_000 })).toBe(403);
    const slot = await f.freeSlot(6);
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    await waitFor(async () => !(await f.freeStarts(...around(slot))).includes(slot.start), 2_000);
    // Nothing to renew on the next sweep.
    expect((await sweepCalendars(calendar)).channels).toBe(0);
  });
});

describe('provider faults', () => {
  it('a 429 with Retry-After is retried after it; the sync then succeeds', async () => {
    await idle();
    f.google.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const slot = await f.freeSlot(7);
    const added = Date.now();
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    await waitFor(async () => (await f.calendarState())?.sync_error?.includes('retryable') ?? false);
    await waitFor(async () => !(await f.freeStarts(...around(slot))).includes(slot.start), 8_000);
    expect(Date.now() - added).toBeGreaterThanOrEqual(1_000);
    expect((await f.calendarState())?.sync_error).toBeNull();
    expect(f.google.requests().some((r) => r.status === 429)).toBe(true);
  });

  it('a 500 is retried with backoff', async () => {
    await idle();
    f.google.failNext(2, { status: 500 });
    const slot = await f.freeSlot(8);
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    await waitFor(async () => !(await f.freeStarts(...around(slot))).includes(slot.start), 10_000);
  });
});

describe('a grant revoked in the Google account', () => {
  it('marks the connection unauthorized; the sweep stops polling it until the owner reconnects', async () => {
    await idle();
    f.google.revokeAllGrants();
    const slot = await f.freeSlot(9);
    // The push still arrives (the channel lives on at Google); the sync's token refresh is refused.
    f.google.addEvent({ start: { dateTime: slot.start }, end: { dateTime: slot.end } });
    await waitFor(async () => {
      const res = await f.api('GET', '/api/v1/calendars');
      return (res.body as { items: Array<{ status: string }> }).items[0]?.status === 'unauthorized';
    });
    expect((await f.calendarState())?.sync_error).toContain('reconnect');
    expect((await sweepCalendars(calendar)).calendars).toBe(0);
    // Connecting again restores it.
    await f.connect();
    const res = await f.api('GET', '/api/v1/calendars');
    expect((res.body as { items: Array<{ status: string }> }).items[0]?.status).toBe('active');
    calendarId =
      (res.body as { items: Array<{ calendars: Array<{ id: string }> }> }).items[0]?.calendars[0]?.id ?? '';
    await waitFor(async () => !(await f.freeStarts(...around(slot))).includes(slot.start));
  });
});

// Last: it holds the system's sync worker and runs its own in its place.
describe('coalescing', () => {
  it('ten pushes while a sync waits make one sync (coalesced)', async () => {
    await idle();
    const channel = await ourChannel();
    // Hold the sync worker so the first push's job is still waiting when the other nine arrive.
    await f.t.system.boss.offWork(QUEUES.calendarSync);
    const jobs = await syncJobs();
    const first = ((await linkRow()).last_message_number ?? 0) + 1;
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        f.google.channels.replay(channel.id, { messageNumber: first + i }),
      ),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await syncJobs()).toBe(jobs + 1);
    const synced = () =>
      f.t.logLines().filter((l) => l.includes('calendar synced') && l.includes('"reason":"push"')).length;
    const before = synced();
    await f.t.system.boss.work<SyncJob>(QUEUES.calendarSync, { pollingIntervalSeconds: 1 }, async (batch) => {
      for (const job of batch) await runSyncJob(calendar, job.data);
    });
    await waitFor(async () => synced() === before + 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(synced()).toBe(before + 1);
  });
});
