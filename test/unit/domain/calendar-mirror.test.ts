import { describe, expect, it } from 'vitest';
import { channelAction, shouldPoll, syncMode } from '../../../src/domain/calendar-channel.ts';
import { compareMirror, driftCount, overlapping } from '../../../src/domain/calendar-mirror.ts';

describe('compareMirror', () => {
  it('finds what is missing, extra and moved', () => {
    const drift = compareMirror(
      [
        { eventId: 'same', start: 0, end: 10 },
        { eventId: 'moved', start: 20, end: 30 },
        { eventId: 'gone', start: 40, end: 50 },
      ],
      [
        { eventId: 'same', start: 0, end: 10 },
        { eventId: 'moved', start: 25, end: 35 },
        { eventId: 'new', start: 60, end: 70 },
      ],
    );
    expect(drift).toEqual({
      missing: [{ eventId: 'new', start: 60, end: 70 }],
      extra: [{ eventId: 'gone', start: 40, end: 50 }],
      moved: [{ eventId: 'moved', start: 25, end: 35 }],
    });
    expect(driftCount(drift)).toBe(3);
    expect(driftCount(compareMirror([], []))).toBe(0);
  });
});

describe('overlapping', () => {
  it('pairs appointments with the blocks that overlap them; touching ends do not', () => {
    const appointments = [
      { id: 'a', start: 100, end: 200 },
      { id: 'b', start: 300, end: 400 },
    ];
    const pairs = overlapping(appointments, [
      { eventId: 'touch-before', start: 50, end: 100 },
      { eventId: 'inside', start: 150, end: 160 },
      { eventId: 'touch-after', start: 200, end: 300 },
      { eventId: 'across', start: 199, end: 301 },
    ]);
    expect(pairs.map((p) => `${p.appointment.id}/${p.block.eventId}`)).toEqual([
      'a/inside',
      'a/across',
      'b/across',
    ]);
  });
});

describe('channels and polling', () => {
  const policy = { renewBeforeMs: 1_000, pollAfterMs: 600 };
  it('opens a channel when there is none or it expired, renews it near its end, else keeps it', () => {
    expect(channelAction({ channelExpiresAt: null, lastPushAt: null, lastSyncedAt: null }, 0, policy)).toBe(
      'open',
    );
    expect(channelAction({ channelExpiresAt: 100, lastPushAt: null, lastSyncedAt: null }, 100, policy)).toBe(
      'open',
    );
    expect(
      channelAction({ channelExpiresAt: 1_100, lastPushAt: null, lastSyncedAt: null }, 100, policy),
    ).toBe('renew');
    expect(
      channelAction({ channelExpiresAt: 1_101, lastPushAt: null, lastSyncedAt: null }, 100, policy),
    ).toBe('keep');
  });

  it('polls only when both the last sync and the last push are older than the interval', () => {
    const now = 10_000;
    expect(shouldPoll({ channelExpiresAt: null, lastPushAt: null, lastSyncedAt: null }, now, policy)).toBe(
      true,
    );
    expect(
      shouldPoll({ channelExpiresAt: null, lastPushAt: null, lastSyncedAt: now - 599 }, now, policy),
    ).toBe(false);
    expect(
      shouldPoll({ channelExpiresAt: null, lastPushAt: now - 10, lastSyncedAt: now - 5_000 }, now, policy),
    ).toBe(false);
    expect(
      shouldPoll({ channelExpiresAt: null, lastPushAt: now - 600, lastSyncedAt: now - 600 }, now, policy),
    ).toBe(true);
  });

  it('reports push while a live channel is heard from, poll otherwise', () => {
    const now = 10_000;
    expect(
      syncMode({ channelExpiresAt: now + 5_000, lastPushAt: now - 1, lastSyncedAt: now - 1 }, now, policy),
    ).toBe('push');
    expect(
      syncMode({ channelExpiresAt: now - 1, lastPushAt: now - 1, lastSyncedAt: now - 1 }, now, policy),
    ).toBe('poll');
    expect(
      syncMode(
        { channelExpiresAt: now + 5_000, lastPushAt: now - 900, lastSyncedAt: now - 900 },
        now,
        policy,
      ),
    ).toBe('poll');
  });
});
