import { expect } from 'vitest';
import { DEMO_RESOURCE, DEMO_SERVICES, demoRowId } from '../../../src/persistence/seed-demo-scheduling.ts';
import type { GoogleSandbox } from '../../../src/providers/google/sandbox/server.ts';
import { type ApiResponse, appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// The demo tenant's resource connected to the Google sandbox through the API, as an owner does it:
// the connect route's consent URL, the sandbox's consent (auto-approved) redirecting to our
// callback, then the first full sync and the channel, both started by the callback.

export type CalendarFixture = {
  t: TestSystem;
  google: GoogleSandbox;
  owner: string;
  resourceId: string;
  serviceId: string;
  api(method: string, url: string, body?: unknown): Promise<ApiResponse>;
  connect(): Promise<{ connectionId: string; calendarId: string }>;
  /** The linked calendar's row as the API shows it. */
  calendarState(): Promise<CalendarState | null>;
  /** Free starts of the demo service on the resource in [from, to). */
  freeStarts(from: string, to: string): Promise<string[]>;
  /** The first free hour at least `daysAhead` days from now (a weekday, within business hours). */
  freeSlot(daysAhead?: number): Promise<{ start: string; end: string }>;
  stop(): Promise<void>;
};

export type CalendarState = {
  id: string;
  mode: string;
  last_synced_at: string | null;
  last_full_sync_at: string | null;
  last_push_at: string | null;
  channel_expires_at: string | null;
  sync_error: string | null;
  mirrored_blocks: number;
};

export async function startCalendarFixture(env: Record<string, string> = {}): Promise<CalendarFixture> {
  const t = await startTestSystem(env);
  const google = t.system.googleSandbox;
  if (!google) throw new Error('the system under test runs on the Google sandbox');
  const owner = await tokenFor(t.system, { subject: 'calendar_owner', role: 'OWNER', org: 'org_demo' });
  const resourceId = demoRowId(t.demo.id, DEMO_RESOURCE.key);
  const serviceId = demoRowId(t.demo.id, DEMO_SERVICES[0]?.key ?? '');
  const app = appOf(t.system);
  const api = (method: string, url: string, body?: unknown) =>
    call(app, { method, url, token: owner, ...(body === undefined ? {} : { body }) });

  const calendarState = async (): Promise<CalendarState | null> => {
    const res = await api('GET', '/api/v1/calendars');
    const items = (res.body as { items: Array<{ calendars: CalendarState[] }> }).items;
    return items[0]?.calendars.find((c) => (c as unknown as { blocks_time: boolean }).blocks_time) ?? null;
  };

  const freeStarts = async (from: string, to: string) => {
    const res = await api(
      'GET',
      `/api/v1/availability?service_id=${serviceId}&resource_id=${resourceId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    );
    expect(res.status).toBe(200);
    return (res.body as { items: Array<{ start: string }> }).items.map((i) => i.start);
  };

  return {
    t,
    google,
    owner,
    resourceId,
    serviceId,
    api,
    calendarState,
    freeStarts,
    async connect() {
      const started = await api('GET', `/api/v1/resources/${resourceId}/calendar/connect?redirect=false`);
      expect(started.status).toBe(200);
      const consent = await fetch((started.body as { authorization_url: string }).authorization_url, {
        redirect: 'manual',
      });
      expect(consent.status).toBe(302);
      const back = new URL(consent.headers.get('location') ?? '');
      const callback = await call(app, { method: 'GET', url: `${back.pathname}${back.search}` });
      expect(callback.status, callback.raw).toBe(200);
      const connection = (callback.body as { connection: { id: string; calendars: Array<{ id: string }> } })
        .connection;
      const calendarId = connection.calendars[0]?.id ?? '';
      await waitFor(async () => {
        const state = await calendarState();
        return state?.last_synced_at && state.channel_expires_at ? state : null;
      });
      return { connectionId: connection.id, calendarId };
    },
    async freeSlot(daysAhead = 2) {
      const from = new Date(Date.now() + daysAhead * 86_400_000).toISOString();
      const to = new Date(Date.now() + (daysAhead + 7) * 86_400_000).toISOString();
      const starts = await freeStarts(from, to);
      const start = starts[0];
      if (!start) throw new Error('no free slot in the demo calendar');
      return { start, end: new Date(Date.parse(start) + 60 * 60_000).toISOString() };
    },
    async stop() {
      await google.settle();
      await t.stop();
    },
  };
}
