import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CalendarProvider, CalendarProviderError } from '../../../src/providers/calendar/provider.ts';
import { SANDBOX_GOOGLE } from '../../../src/providers/google/account.ts';
import { createGoogleCalendarProvider } from '../../../src/providers/google/calendar-provider.ts';
import {
  type GoogleSandbox,
  SANDBOX_GOOGLE_ACCOUNT,
  startGoogleSandbox,
} from '../../../src/providers/google/sandbox/server.ts';

// The Google sandbox spoken to by the real googleapis client through our provider adapter: OAuth
// with PKCE, pages and sync tokens, faults (410, 429 with Retry-After, 500) classified once, watch
// channels posting Google's headers, channels.stop.

let google: GoogleSandbox;
let provider: CalendarProvider;
let refreshToken: string;
const pushes: Array<Record<string, string | string[] | undefined>> = [];
let receiver: ReturnType<typeof createServer>;
let receiverUrl: string;

async function consent(): Promise<string> {
  const verifier = 'v'.repeat(50);
  const { createHash } = await import('node:crypto');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = provider.authorizationUrl({
    state: 'state-123',
    codeChallenge: challenge,
    redirectUri: 'http://127.0.0.1:1/cb',
  });
  const res = await fetch(url, { redirect: 'manual' });
  const back = new URL(res.headers.get('location') ?? '');
  expect(back.searchParams.get('state')).toBe('state-123');
  const code = back.searchParams.get('code') ?? '';
  await expect(
    provider.exchangeCode({ code, codeVerifier: 'w'.repeat(50), redirectUri: 'http://127.0.0.1:1/cb' }),
  ).rejects.toBeInstanceOf(CalendarProviderError);
  // A code is single use: the failed attempt above spent it; consent again.
  const again = await fetch(url, { redirect: 'manual' });
  const code2 = new URL(again.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const granted = await provider.exchangeCode({
    code: code2,
    codeVerifier: verifier,
    redirectUri: 'http://127.0.0.1:1/cb',
  });
  return granted.refreshToken;
}

beforeAll(async () => {
  google = await startGoogleSandbox({ ...SANDBOX_GOOGLE });
  provider = createGoogleCalendarProvider({
    ...SANDBOX_GOOGLE,
    apiBaseUrl: google.url,
    oauthBaseUrl: google.oauthBaseUrl,
    sandbox: true,
  });
  refreshToken = await consent();
  receiver = createServer((req, res) => {
    pushes.push(req.headers);
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await google?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('the Google sandbox through googleapis', () => {
  it('lists the account calendars', async () => {
    const calendars = await provider.listCalendars(refreshToken);
    expect(calendars.find((c) => c.primary)).toMatchObject({
      id: SANDBOX_GOOGLE_ACCOUNT,
      time_zone: 'America/Los_Angeles',
    });
    expect(calendars).toHaveLength(2);
  });

  it('pages a full listing and continues incrementally from its sync token', async () => {
    const base = Date.parse('2030-01-07T17:00:00Z');
    for (let i = 0; i < 260; i += 1) {
      google.addEvent({
        start: { dateTime: new Date(base + i * 3_600_000).toISOString() },
        end: { dateTime: new Date(base + i * 3_600_000 + 1_800_000).toISOString() },
      });
    }
    const full = await provider.listEvents(refreshToken, 'primary', {
      mode: 'full',
      timeMin: '2030-01-01T00:00:00Z',
      timeMax: '2030-03-01T00:00:00Z',
    });
    expect(full.events).toHaveLength(260);
    expect(full.pages).toBe(2);
    expect(full.nextSyncToken).toBeTruthy();
    const changed = google.addEvent({
      start: { dateTime: '2030-02-01T17:00:00Z' },
      end: { dateTime: '2030-02-01T18:00:00Z' },
    });
    google.deleteEvent(full.events[0]?.id ?? '');
    const delta = await provider.listEvents(refreshToken, 'primary', {
      mode: 'incremental',
      syncToken: full.nextSyncToken ?? '',
    });
    expect(delta.events.map((e) => [e.id, e.status])).toEqual([
      [changed.id, 'confirmed'],
      [full.events[0]?.id, 'cancelled'],
    ]);
  });

  it('classifies faults once: 410 gone, 429 retryable with Retry-After, 500 retryable, 401 unauthorized', async () => {
    const full = await provider.listEvents(refreshToken, 'primary', {
      mode: 'full',
      timeMin: '2030-01-01T00:00:00Z',
      timeMax: '2030-01-02T00:00:00Z',
    });
    google.expireSyncTokens();
    await expect(
      provider.listEvents(refreshToken, 'primary', {
        mode: 'incremental',
        syncToken: full.nextSyncToken ?? '',
      }),
    ).rejects.toMatchObject({ kind: 'gone', status: 410 });
    google.failNext(1, { status: 429, retryAfterSeconds: 7 });
    await expect(provider.listCalendars(refreshToken)).rejects.toMatchObject({
      kind: 'retryable',
      status: 429,
      retryAfterMs: 7_000,
    });
    google.failNext(1, { status: 500 });
    await expect(provider.listCalendars(refreshToken)).rejects.toMatchObject({
      kind: 'retryable',
      status: 500,
    });
    await expect(provider.listCalendars('1//not-a-token')).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('writes our events with a client id; a second insert of that id is a 409', async () => {
    const event = {
      id: 'nmc0123456789abcdef0123456789abcdef',
      summary: 'Drain cleaning',
      description: 'Customer: Dana',
      start: '2030-04-01T17:00:00Z',
      end: '2030-04-01T18:00:00Z',
      marker: { nmc_appointment_id: 'x' },
    };
    await provider.insertEvent(refreshToken, 'primary', event);
    await expect(provider.insertEvent(refreshToken, 'primary', event)).rejects.toMatchObject({ status: 409 });
    await provider.updateEvent(refreshToken, 'primary', event.id, {
      ...event,
      start: '2030-04-01T19:00:00Z',
      end: '2030-04-01T20:00:00Z',
    });
    const stored = google.events().find((e) => e.id === event.id);
    expect(stored).toMatchObject({
      start: { dateTime: '2030-04-01T19:00:00Z' },
      extendedProperties: { private: { nmc_appointment_id: 'x' } },
    });
    await provider.deleteEvent(refreshToken, 'primary', event.id);
    await provider.deleteEvent(refreshToken, 'primary', event.id); // already gone: fine
  });

  it('a watch channel posts Google’s headers, sync first; channels.stop ends it', async () => {
    const channel = await provider.watch(refreshToken, 'primary', {
      channelId: '11111111-2222-4333-8444-555555555555',
      token: 'secret-token',
      address: receiverUrl,
      ttlSeconds: 3600,
    });
    google.addEvent({
      start: { dateTime: '2030-05-01T17:00:00Z' },
      end: { dateTime: '2030-05-01T18:00:00Z' },
    });
    await google.settle();
    expect(pushes.map((h) => [h['x-goog-resource-state'], h['x-goog-message-number']])).toEqual([
      ['sync', '1'],
      ['exists', '2'],
    ]);
    expect(pushes[1]).toMatchObject({
      'x-goog-channel-id': '11111111-2222-4333-8444-555555555555',
      'x-goog-channel-token': 'secret-token',
      'x-goog-resource-id': channel.resourceId,
    });
    expect(Date.parse(channel.expiration)).toBeGreaterThan(Date.now() + 3_500_000);
    await provider.stopChannel(refreshToken, {
      channelId: '11111111-2222-4333-8444-555555555555',
      resourceId: channel.resourceId,
    });
    google.addEvent({
      start: { dateTime: '2030-05-02T17:00:00Z' },
      end: { dateTime: '2030-05-02T18:00:00Z' },
    });
    await google.settle();
    expect(pushes).toHaveLength(2);
  });

  it('revoking the refresh token ends access', async () => {
    await provider.revoke(refreshToken);
    await expect(provider.listCalendars(refreshToken)).rejects.toMatchObject({ kind: 'unauthorized' });
    await provider.revoke(refreshToken); // twice: harmless
  });
});
