// When a calendar's push channel is renewed, and when the calendar is polled instead of waiting
// for pushes (webhook first, poll on provider failure). Pure: times are epoch milliseconds.
// - A channel is renewed once it expires within `renewBeforeMs`, and opened when there is none or
//   it has already expired: a new channel starts before the old one stops, so no change is missed.
// - A calendar is polled when its last sync is older than `pollAfterMs` and no push arrived within
//   that time either: a quiet calendar costs one cheap incremental listing per interval, and a
//   calendar whose pushes stopped (dropped channel, provider trouble) stays fresh regardless.

export type ChannelState = {
  channelExpiresAt: number | null;
  lastPushAt: number | null;
  lastSyncedAt: number | null;
};

export type ChannelPolicy = { renewBeforeMs: number; pollAfterMs: number };

export type ChannelAction = 'open' | 'renew' | 'keep';

export function channelAction(state: ChannelState, now: number, policy: ChannelPolicy): ChannelAction {
  if (state.channelExpiresAt === null || state.channelExpiresAt <= now) return 'open';
  if (state.channelExpiresAt - now <= policy.renewBeforeMs) return 'renew';
  return 'keep';
}

export function shouldPoll(state: ChannelState, now: number, policy: ChannelPolicy): boolean {
  const staleSync = state.lastSyncedAt === null || now - state.lastSyncedAt >= policy.pollAfterMs;
  const quietPush = state.lastPushAt === null || now - state.lastPushAt >= policy.pollAfterMs;
  return staleSync && quietPush;
}

/** How the calendar is kept fresh right now, for status reports. */
export function syncMode(state: ChannelState, now: number, policy: ChannelPolicy): 'push' | 'poll' {
  if (state.channelExpiresAt === null || state.channelExpiresAt <= now) return 'poll';
  return shouldPoll(state, now, policy) ? 'poll' : 'push';
}
