import { expect } from 'vitest';
import { DEMO_RESOURCE, DEMO_SERVICES, demoRowId } from '../../../src/persistence/seed-demo-scheduling.ts';
import type { JobberSandbox } from '../../../src/providers/jobber/sandbox/server.ts';
import { QUEUES } from '../../../src/runtime/job-queues.ts';
import { type ApiResponse, appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// The demo tenant's resource connected to the Jobber sandbox through the API, as an owner does it:
// the connect route with provider=jobber, Jobber's consent (auto-approved) redirecting to our
// callback, then the first full sync started by the callback.

export type JobberFixture = {
  t: TestSystem;
  jobber: JobberSandbox;
  resourceId: string;
  serviceId: string;
  api(method: string, url: string, body?: unknown): Promise<ApiResponse>;
  connect(): Promise<{ connectionId: string; calendarId: string }>;
  lastSyncedAt(calendarId: string): Promise<number>;
  /** Sync jobs of the calendar ever queued (any state). */
  syncJobs(calendarId: string): Promise<number>;
  /** No sync of the calendar waiting or running. */
  idle(calendarId: string): Promise<void>;
  freeStarts(from: string, to: string): Promise<string[]>;
  /** The first free hour at least `daysAhead` days from now. */
  freeSlot(daysAhead?: number): Promise<{ start: string; end: string }>;
  stop(): Promise<void>;
};

export async function startJobberFixture(env: Record<string, string> = {}): Promise<JobberFixture> {
  const t = await startTestSystem(env);
  const jobber = t.system.jobberSandbox;
  if (!jobber) throw new Error('the system under test runs on the Jobber sandbox');
  const owner = await tokenFor(t.system, { subject: 'jobber_owner', role: 'OWNER', org: 'org_demo' });
  const resourceId = demoRowId(t.demo.id, DEMO_RESOURCE.key);
  const serviceId = demoRowId(t.demo.id, DEMO_SERVICES[0]?.key ?? '');
  const app = appOf(t.system);
  const api = (method: string, url: string, body?: unknown) =>
    call(app, { method, url, token: owner, ...(body === undefined ? {} : { body }) });

  const freeStarts = async (from: string, to: string) => {
    const res = await api(
      'GET',
      `/api/v1/availability?service_id=${serviceId}&resource_id=${resourceId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    );
    expect(res.status).toBe(200);
    return (res.body as { items: Array<{ start: string }> }).items.map((i) => i.start);
  };
  const lastSyncedAt = async (calendarId: string) => {
    const { rows } = await t.system.db.query(
      'SELECT last_synced_at FROM sched_calendar_links WHERE id = $1',
      [calendarId],
    );
    return rows[0]?.last_synced_at ? (rows[0].last_synced_at as Date).getTime() : 0;
  };
  const syncJobs = async (calendarId: string) => {
    const { rows } = await t.system.db.query(
      'SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2',
      [QUEUES.calendarSync, calendarId],
    );
    return rows[0].n as number;
  };

  return {
    t,
    jobber,
    resourceId,
    serviceId,
    api,
    lastSyncedAt,
    syncJobs,
    freeStarts,
    async idle(calendarId) {
      await jobber.settle();
      await waitFor(async () => {
        const { rows } = await t.system.db.query(
          `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state < 'completed'`,
          [QUEUES.calendarSync, calendarId],
        );
        return rows[0].n === 0;
      }, 10_000);
    },
    async connect() {
      const started = await api(
        'GET',
        `/api/v1/resources/${resourceId}/calendar/connect?provider=jobber&redirect=false`,
      );
      expect(started.status, started.raw).toBe(200);
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
      await waitFor(async () => (await lastSyncedAt(calendarId)) > 0);
      return { connectionId: connection.id, calendarId };
    },
    async freeSlot(daysAhead = 2) {
      const from = new Date(Date.now() + daysAhead * 86_400_000).toISOString();
      const to = new Date(Date.now() + (daysAhead + 7) * 86_400_000).toISOString();
      const start = (await freeStarts(from, to))[0];
      if (!start) throw new Error('no free slot in the demo calendar');
      return { start, end: new Date(Date.parse(start) + 60 * 60_000).toISOString() };
    },
    async stop() {
      await jobber.settle();
      await t.stop();
    },
  };
}
