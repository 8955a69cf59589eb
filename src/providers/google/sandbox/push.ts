import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../observability/logger.ts';

// Google's push notifications, as the sandbox plays them: `events.watch` opens a channel on one
// calendar's events; every change to that calendar then POSTs an empty body to the channel's
// address with Google's headers (X-Goog-Channel-ID, -Token, -Expiration, X-Goog-Resource-ID, -URI,
// -State, X-Goog-Message-Number), `sync` first when the channel opens, `exists` after. Message
// numbers grow per channel. A channel stops at its expiration or on channels.stop. Deliveries run
// after the API answer (as Google's do) and are recorded; a test may drop the next N, or all.

export type Channel = {
  id: string;
  resourceId: string;
  calendarId: string;
  address: string;
  token: string | null;
  expiration: number;
  messageNumber: number;
  stopped: boolean;
};

export type Delivery = {
  channelId: string;
  state: 'sync' | 'exists';
  messageNumber: number;
  /** The HTTP status our webhook answered, or null when dropped or unreachable. */
  status: number | null;
  dropped: boolean;
};

const DEFAULT_TTL_SECONDS = 7 * 86_400;
const MAX_TTL_SECONDS = 30 * 86_400;

export function createPushChannels(options: { apiBaseUrl: () => string; logger?: Logger }) {
  const channels = new Map<string, Channel>();
  const deliveries: Delivery[] = [];
  const inFlight = new Set<Promise<void>>();
  let dropNext = 0;
  let dropAll = false;

  function headersOf(channel: Channel, state: 'sync' | 'exists'): Record<string, string> {
    return {
      'x-goog-channel-id': channel.id,
      ...(channel.token === null ? {} : { 'x-goog-channel-token': channel.token }),
      'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': `${options.apiBaseUrl()}/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
      'x-goog-resource-state': state,
      'x-goog-message-number': String(channel.messageNumber),
    };
  }

  function send(channel: Channel, state: 'sync' | 'exists'): void {
    channel.messageNumber += 1;
    const delivery: Delivery = {
      channelId: channel.id,
      state,
      messageNumber: channel.messageNumber,
      status: null,
      dropped: false,
    };
    deliveries.push(delivery);
    if (dropAll || dropNext > 0) {
      if (!dropAll) dropNext -= 1;
      delivery.dropped = true;
      return;
    }
    const headers = headersOf(channel, state);
    const task = fetch(channel.address, { method: 'POST', headers, signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      })
      .catch((err: unknown) => {
        options.logger?.warn({ err, channel_id: channel.id }, 'google sandbox: push delivery failed');
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }

  function live(channel: Channel): boolean {
    return !channel.stopped && channel.expiration > Date.now();
  }

  return {
    watch(input: {
      calendarId: string;
      id: string;
      address: string;
      token?: string;
      ttlSeconds?: number;
    }): Channel {
      const ttl = Math.min(Math.max(input.ttlSeconds ?? DEFAULT_TTL_SECONDS, 1), MAX_TTL_SECONDS);
      const channel: Channel = {
        id: input.id,
        resourceId: `sandbox-resource-${randomBytes(8).toString('hex')}`,
        calendarId: input.calendarId,
        address: input.address,
        token: input.token ?? null,
        expiration: Date.now() + ttl * 1000,
        messageNumber: 0,
        stopped: false,
      };
      channels.set(channel.id, channel);
      send(channel, 'sync');
      return channel;
    },
    /** channels.stop: false when no such channel (id and resource id must both match). */
    stop(id: string, resourceId: string): boolean {
      const channel = channels.get(id);
      if (!channel || channel.resourceId !== resourceId || channel.stopped) return false;
      channel.stopped = true;
      return true;
    },
    /** A change happened on the calendar: every live channel on it is told. */
    changed(calendarId: string): void {
      for (const channel of channels.values()) {
        if (channel.calendarId === calendarId && live(channel)) send(channel, 'exists');
      }
    },
    /** Sends a notification again exactly as before (a duplicate delivery), or with another token. */
    async replay(
      channelId: string,
      input: { messageNumber?: number; token?: string | null; state?: 'sync' | 'exists' } = {},
    ) {
      const channel = channels.get(channelId);
      if (!channel) throw new Error(`no channel ${channelId}`);
      const headers = headersOf(channel, input.state ?? 'exists');
      headers['x-goog-message-number'] = String(input.messageNumber ?? channel.messageNumber);
      if (input.token === null) delete headers['x-goog-channel-token'];
      else if (input.token !== undefined) headers['x-goog-channel-token'] = input.token;
      const res = await fetch(channel.address, { method: 'POST', headers });
      await res.arrayBuffer();
      return res.status;
    },
    channels: () => [...channels.values()],
    liveChannels: () => [...channels.values()].filter(live),
    deliveries: () => [...deliveries],
    dropNextPushes(count: number) {
      dropNext += count;
    },
    dropAllPushes(drop: boolean) {
      dropAll = drop;
    },
    /** Moves a channel's expiration (e.g. into the past: Google stopped it). */
    expire(channelId: string, at: number = Date.now() - 1) {
      const channel = channels.get(channelId);
      if (channel) channel.expiration = at;
    },
    async settle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    reset() {
      channels.clear();
      deliveries.length = 0;
      dropNext = 0;
      dropAll = false;
    },
  };
}
