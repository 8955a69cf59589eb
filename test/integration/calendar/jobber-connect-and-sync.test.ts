import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../../src/domain/token-encryption.ts';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import { listAllConnections } from '../../../src/persistence/repositories/scheduling/calendar-connections.ts';
import { CalendarProviderError } from '../../../src/providers/calendar/provider.ts';
import { SANDBOX_JOBBER } from '../../../src/providers/jobber/account.ts';
import { jobberSignature } from '../../../src/providers/jobber/webhook-signature.ts';
import type { CalendarDeps } from '../../../src/runtime/calendar/calendar-deps.ts';
import { sweepCalendars } from '../../../src/runtime/calendar/sweep.ts';
import { openRefreshToken } from '../../../src/runtime/calendar/token-vault.ts';
import { waitFor } from '../../helpers/system.ts';
import { type JobberFixture, startJobberFixture } from './jobber-fixture.ts';

// Jobber as a resource's calendar, through the sandbox and graphql-request: connect (OAuth code
// flow, refresh token sealed), full sync of scheduled visits into the mirror, a visit created in
// Jobber → signed webhook → the slot leaves availability; forged webhooks are 403 and queue
// nothing; a redelivered webhook queues nothing; an expired access token is refreshed; 429, 500
// and a THROTTLED answer are retryable (with the wait Jobber's cost extension implies); when
// webhooks stop, the sweep polls.

const K1 = generateKey('k1');
let f: JobberFixture;
let calendar: CalendarDeps;
let calendarId: string;
let connectionId: string;
/** A visit the owner had in Jobber before connecting: the first sync must mirror it. */
let before: { start: string; end: string };

const visitRows = async () => {
  const { rows } = await f.t.system.db.query(
    `SELECT external_id, source FROM sched_external_busy WHERE tenant_id = $1 AND calendar_id = $2`,
    [f.t.demo.id, calendarId],
  );
  return rows as Array<{ external_id: string; source: string }>;
};

function webhook(body: string, signature: string | null) {
  return fetch(`${f.t.baseUrl}/webhooks/jobber`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === null ? {} : { 'x-jobber-hmac-sha256': signature }),
    },
    body,
  });
}

const payload = (topic: string, itemId: string, occurredAt = new Date().toISOString()) =>
  JSON.stringify({
    data: { webHookEvent: { topic, appId: 'app', accountId: f.jobber.accountId, itemId, occurredAt } },
  });

beforeAll(async () => {
  f = await startJobberFixture({ NMC_ENCRYPTION_KEY: K1 });
  if (!f.t.system.calendar) throw new Error('no calendar runtime');
  calendar = f.t.system.calendar;
  before = await f.freeSlot(2);
  f.jobber.addVisit({ startAt: before.start, endAt: before.end, title: 'Boiler service' });
  ({ calendarId, connectionId } = await f.connect());
});
afterAll(async () => {
  await f?.stop();
});

describe('connect', () => {
  it('stores a Jobber connection to the account, and the resource’s calendar is Jobber', async () => {
    const res = await f.api('GET', `/api/v1/resources/${f.resourceId}/calendar`);
    expect(res.status, res.raw).toBe(200);
    const body = res.body as {
      connection: {
        id: string;
        provider: string;
        account: string;
        calendars: Array<{ external_id: string }>;
      };
      account_calendars: Array<{ external_id: string; primary: boolean }>;
    };
    expect(body.connection).toMatchObject({
      id: connectionId,
      provider: 'jobber',
      account: f.jobber.accountId,
    });
    expect(body.connection.calendars.map((c) => c.external_id)).toEqual([f.jobber.accountId]);
    expect(body.account_calendars).toEqual([
      expect.objectContaining({ external_id: f.jobber.accountId, primary: true }),
    ]);
    const { rows } = await f.t.system.db.query('SELECT calendar_kind FROM sched_resources WHERE id = $1', [
      f.resourceId,
    ]);
    expect(rows[0].calendar_kind).toBe('jobber');
    // Every GraphQL call named the schema version it is written against.
    const graphql = f.jobber.requests().filter((r) => r.path === '/api/graphql');
    expect(graphql.length).toBeGreaterThan(0);
    expect(graphql.every((r) => r.version !== null)).toBe(true);
  });

  it('the consent URL is Jobber’s authorize endpoint with our callback and a state', async () => {
    const res = await f.api(
      'GET',
      `/api/v1/resources/${f.resourceId}/calendar/connect?provider=jobber&redirect=false`,
    );
    const url = new URL((res.body as { authorization_url: string }).authorization_url);
    expect(url.pathname).toBe('/api/oauth/authorize');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(SANDBOX_JOBBER.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(`${f.t.baseUrl}/api/v1/calendar/oauth/callback`);
    expect(url.searchParams.get('state')?.length).toBeGreaterThanOrEqual(40);
  });

  it('the refresh token is sealed at rest: the stored bytes hold no usable token', async () => {
    const [connection] = (await listAllConnections(f.t.system.db)).filter((c) => c.id === connectionId);
    if (!connection) throw new Error('no connection');
    const live = f.jobber.liveRefreshTokens();
    const token = openRefreshToken(calendar.keyring, connection);
    expect(live).toContain(token);
    const stored = connection.token_ciphertext;
    for (const candidate of live) {
      expect(stored.includes(Buffer.from(candidate, 'utf8'))).toBe(false);
      expect(stored.toString('base64')).not.toContain(Buffer.from(candidate).toString('base64'));
    }
    expect(connection.token_key_id).toBe('k1');
  });
});

describe('sync', () => {
  it('the first full sync mirrored the visit the owner already had: its slot is not offered', async () => {
    const [visit] = f.jobber.visits();
    const rows = await visitRows();
    expect(rows).toEqual([{ external_id: `${calendarId}:${visit?.id}`, source: 'jobber' }]);
    expect(await f.freeStarts(before.start, before.end)).not.toContain(before.start);
  });

  it('a visit scheduled in Jobber → signed webhook → the slot disappears from availability', async () => {
    await f.idle(calendarId);
    const slot = await f.freeSlot(3);
    expect(await f.freeStarts(slot.start, slot.end)).toContain(slot.start);
    const started = Date.now();
    const visit = f.jobber.addVisit({ startAt: slot.start, endAt: slot.end, title: 'Water heater' });
    await waitFor(async () => !(await f.freeStarts(slot.start, slot.end)).includes(slot.start), 10_000);
    const elapsed = Date.now() - started;
    expect(f.jobber.deliveries().at(-1)).toMatchObject({
      topic: 'VISIT_CREATE',
      itemId: visit.id,
      status: 200,
    });
    // Measured for the report (webhook, queued sync, full relisting, availability query).
    console.info(`jobber visit → slot gone: ${elapsed} ms`);
    expect(elapsed).toBeLessThan(5_000);

    // The visit is deleted in Jobber: the time is free again.
    await f.idle(calendarId);
    f.jobber.deleteVisit(visit.id);
    await waitFor(async () => (await f.freeStarts(slot.start, slot.end)).includes(slot.start), 10_000);
  });

  it('a forged webhook is refused with 403 and queues nothing', async () => {
    await f.idle(calendarId);
    const [visit] = f.jobber.visits();
    const body = payload('VISIT_UPDATE', visit?.id ?? '');
    const jobs = await f.syncJobs(calendarId);
    const receipts = await f.t.system.db.query(
      'SELECT count(*)::int AS n FROM sched_jobber_webhook_receipts',
    );
    const forged: Array<[string, string | null]> = [
      [body, null],
      [body, 'not-a-signature'],
      [body, jobberSignature('another-apps-secret', body)],
      // Signed, then changed on the way.
      [body.replace('VISIT_UPDATE', 'VISIT_DESTROY'), jobberSignature(SANDBOX_JOBBER.clientSecret, body)],
    ];
    for (const [raw, signature] of forged) {
      const res = await webhook(raw, signature);
      expect(res.status, String(signature)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('signature_invalid');
    }
    expect(await f.syncJobs(calendarId)).toBe(jobs);
    const after = await f.t.system.db.query('SELECT count(*)::int AS n FROM sched_jobber_webhook_receipts');
    expect(after.rows[0].n).toBe(receipts.rows[0].n);
  });

  it('a redelivered webhook queues nothing more; a new one queues a sync', async () => {
    await f.idle(calendarId);
    const [visit] = f.jobber.visits();
    const occurredAt = new Date().toISOString();
    const body = payload('VISIT_UPDATE', visit?.id ?? '', occurredAt);
    const signature = jobberSignature(SANDBOX_JOBBER.clientSecret, body);
    const jobs = await f.syncJobs(calendarId);
    expect((await webhook(body, signature)).status).toBe(200);
    expect(await f.syncJobs(calendarId)).toBe(jobs + 1);
    await f.idle(calendarId);
    expect((await webhook(body, signature)).status).toBe(200);
    expect(await f.syncJobs(calendarId)).toBe(jobs + 1);
    const later = payload('VISIT_UPDATE', visit?.id ?? '', new Date(Date.now() + 1000).toISOString());
    expect((await webhook(later, jobberSignature(SANDBOX_JOBBER.clientSecret, later))).status).toBe(200);
    expect(await f.syncJobs(calendarId)).toBe(jobs + 2);
  });

  it('an expired access token is refreshed with the stored refresh token, and the sync goes on', async () => {
    await f.idle(calendarId);
    f.jobber.expireAccessTokens();
    const from = f.jobber.requests().length;
    const res = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/backfill`, { days: 30 });
    expect(res.status, res.raw).toBe(200);
    const seen = f.jobber.requests().slice(from);
    // Our cached access token was refused, a refresh got a new one, the query was asked again.
    expect(seen.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/graphql 401',
      '/api/oauth/token 200',
      '/api/graphql 200',
    ]);
  });
});

describe('refresh token rotation', () => {
  it('with rotation on, each new refresh token is stored sealed in place of the old, and used', async () => {
    await f.idle(calendarId);
    const stored = async () => {
      const connection = (await listAllConnections(f.t.system.db)).find((c) => c.id === connectionId);
      if (!connection) throw new Error('no connection');
      return openRefreshToken(calendar.keyring, connection);
    };
    const first = await stored();
    f.jobber.setRefreshTokenRotation(true);
    try {
      for (let round = 0; round < 2; round += 1) {
        f.jobber.expireAccessTokens();
        const res = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/backfill`, { days: 7 });
        expect(res.status, res.raw).toBe(200);
      }
      const now = await stored();
      expect(now).not.toBe(first);
      // The sandbox ended each replaced token: only the one stored is live.
      expect(f.jobber.liveRefreshTokens()).toEqual([now]);
    } finally {
      f.jobber.setRefreshTokenRotation(false);
    }
  });
});

describe('when webhooks stop', () => {
  it('a dropped webhook: the sweep polls the quiet calendar and the slot still goes', async () => {
    await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.poll_after_seconds', 1);
    try {
      await f.idle(calendarId);
      f.jobber.dropNextWebhooks(1);
      const slot = await f.freeSlot(4);
      f.jobber.addVisit({ startAt: slot.start, endAt: slot.end, title: 'Unannounced' });
      await f.jobber.settle();
      expect(f.jobber.deliveries().at(-1)).toMatchObject({ topic: 'VISIT_CREATE', dropped: true });
      // Neither a webhook nor a sync for longer than the policy's interval: the sweep polls.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await sweepCalendars(calendar)).polled).toBeGreaterThanOrEqual(1);
      await waitFor(async () => !(await f.freeStarts(slot.start, slot.end)).includes(slot.start), 10_000);
    } finally {
      await setPolicyValue(f.t.system.db, f.t.demo.id, 'calendar.poll_after_seconds', 600);
    }
  });
});

describe('provider faults', () => {
  const listing = () => {
    const provider = calendar.jobber?.provider;
    if (!provider) throw new Error('no Jobber provider');
    return listAllConnections(f.t.system.db).then((all) => {
      const connection = all.find((c) => c.id === connectionId);
      if (!connection) throw new Error('no connection');
      return provider.listEvents(openRefreshToken(calendar.keyring, connection), f.jobber.accountId, {
        mode: 'full',
        timeMin: new Date().toISOString(),
        timeMax: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      });
    });
  };

  it('THROTTLED (the query-cost bucket) is retryable after the points Jobber says are missing', async () => {
    f.jobber.throttleNext(1);
    const err = await listing().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalendarProviderError);
    expect(err).toMatchObject({ kind: 'retryable', status: 429 });
    const wait = (err as CalendarProviderError).retryAfterMs ?? -1;
    // The sandbox drains the bucket to one second of restore short of the query's cost.
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    // Asked again after that wait, the same query goes through.
    await new Promise((resolve) => setTimeout(resolve, wait + 50));
    expect((await listing()).events.length).toBeGreaterThan(0);
  });

  it('429 (request rate) and 500 are retryable', async () => {
    // The listing above spent the bucket's points; they come back at restoreRate per second.
    await waitFor(async () => f.jobber.throttleStatus().currentlyAvailable >= 1_100, 5_000);
    f.jobber.failNext(1, { status: 429 });
    expect(await listing().catch((e: unknown) => e)).toMatchObject({ kind: 'retryable', status: 429 });
    f.jobber.failNext(1, { status: 500 });
    expect(await listing().catch((e: unknown) => e)).toMatchObject({ kind: 'retryable', status: 500 });
    expect((await listing()).events.length).toBeGreaterThan(0);
  });

  it('a provider failure during a backfill is a 503 error envelope, not a 500', async () => {
    await f.idle(calendarId);
    f.jobber.failNext(1, { status: 500 });
    const res = await f.api('POST', `/api/v1/resources/${f.resourceId}/calendar/backfill`, { days: 7 });
    expect(res.status, res.raw).toBe(503);
    expect((res.body as { error: { code: string } }).error.code).toBe('unavailable');
  });
});
