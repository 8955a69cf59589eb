import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.ts';
import { upsertTenantBySlug } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import type { DevIssuer } from '../../src/providers/auth/dev-issuer.ts';
import { createOperatorAuth, openDevIssuerFor } from '../../src/providers/auth/operator-auth.ts';
import { writeOutboxEvents } from '../../src/runtime/outbox.ts';
import { createStreamHub, type StreamHub } from '../../src/runtime/stream-hub.ts';
import { buildTestApp } from '../helpers/app.ts';
import { captureLogger } from '../helpers/logs.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// The operator live stream end to end: stoken minted with a bearer token, SSE opened with the
// stoken alone, events pushed from the outbox through the hub, per tenant.

type SseMessage = { id?: string; event?: string; data?: string; comments: string[] };
type Envelope = { event_id: string; event_name: string; tenant_id: string; payload: Record<string, unknown> };
type Stream = {
  response: Response;
  messages: SseMessage[];
  events(): (SseMessage & { envelope: Envelope })[];
  close(): Promise<void>;
};

let t: TestSystem;
let issuer: DevIssuer;
let demoBearer: string;
let otherBearer: string;
let otherTenantId: string;
const minted: string[] = [];

beforeAll(async () => {
  t = await startTestSystem();
  issuer = await openDevIssuerFor(t.system.config);
  const { tenant } = await upsertTenantBySlug(t.system.db, {
    slug: 'other-plumbing',
    name: 'Other Plumbing',
    time_zone: 'America/New_York',
    auth_org_id: 'org_other',
    twilio_number: '+15005550099',
    forwarding_phone: '+15005550098',
  });
  otherTenantId = tenant.id;
  demoBearer = await issuer.mint({ subject: 'user_demo_owner', org: 'org_demo', role: 'org:admin' });
  otherBearer = await issuer.mint({ subject: 'user_other_owner', org: 'org_other', role: 'org:admin' });
});
afterAll(async () => {
  // As below: fetch's pool keeps connections that server.close() would otherwise wait out.
  t?.system.app?.server.closeAllConnections();
  await t?.stop();
});

function parseBlock(block: string): SseMessage {
  const message: SseMessage = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comments.push(line.slice(1).trim());
    else if (line.startsWith('id: ')) message.id = line.slice(4);
    else if (line.startsWith('event: ')) message.event = line.slice(7);
    else if (line.startsWith('data: ')) message.data = line.slice(6);
  }
  return message;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const messages: SseMessage[] = [];
  const reading = (async () => {
    if (response.status !== 200 || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          messages.push(parseBlock(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    response,
    messages,
    events: () =>
      messages
        .filter((m) => m.data !== undefined)
        .map((m) => ({ ...m, envelope: JSON.parse(m.data ?? '{}') as Envelope })),
    async close() {
      controller.abort();
      await reading;
    },
  };
}

async function mint(bearer: string, baseUrl = t.baseUrl): Promise<{ stoken: string; expires_at: string }> {
  const response = await fetch(`${baseUrl}/api/v1/stream-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}` },
  });
  const body = (await response.json()) as { stoken: string; expires_at: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  minted.push(body.stoken);
  return body;
}

const streamUrl = (stoken: string, baseUrl = t.baseUrl) =>
  `${baseUrl}/api/v1/stream?stoken=${encodeURIComponent(stoken)}`;

/** Writes ConversationStarted events (one per tenant id given); returns their seqs and conversation ids. */
async function writeEvents(
  tenantIds: string[],
): Promise<{ tenantId: string; seq: number; marker: string }[]> {
  const markers = tenantIds.map(() => randomUUID());
  const envelopes = await writeOutboxEvents(
    t.system.db,
    tenantIds.map((tenantId, i) => ({
      tenantId,
      name: 'nmc.conversation.ConversationStarted',
      payload: { conversation_id: markers[i] },
      occurredAt: new Date().toISOString(),
      correlationId: `test-${randomUUID()}`,
      causationId: null,
    })),
  );
  const { rows } = await t.system.db.query<{ event_id: string; seq: number }>(
    'SELECT event_id, seq FROM outbox_events WHERE event_id = ANY($1::uuid[])',
    [envelopes.map((e) => e.event_id)],
  );
  return envelopes.map((e, i) => ({
    tenantId: e.tenant_id,
    marker: markers[i] ?? '',
    seq: rows.find((r) => r.event_id === e.event_id)?.seq ?? -1,
  }));
}

const hasMarker = (stream: Stream, marker: string) =>
  waitFor(async () => stream.events().find((e) => e.envelope.payload.conversation_id === marker));

describe('POST /api/v1/stream-tokens', () => {
  it('mints a random single-use stoken that expires in 60 s and stores only its hash', async () => {
    const before = Date.now();
    const { stoken, expires_at } = await mint(demoBearer);
    expect(stoken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const ttl = Date.parse(expires_at) - before;
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThan(65_000);
    const hash = createHash('sha256').update(stoken).digest('hex');
    const { rows } = await t.system.db.query(
      'SELECT tenant_id, token_hash, used_at FROM id_stream_tokens WHERE token_hash = $1',
      [hash],
    );
    expect(rows).toEqual([{ tenant_id: t.demo.id, token_hash: hash, used_at: null }]);
    const { rowCount } = await t.system.db.query(
      'SELECT 1 FROM id_stream_tokens WHERE token_hash = $1 OR tenant_id::text = $1',
      [stoken],
    );
    expect(rowCount).toBe(0);
    expect((await mint(demoBearer)).stoken).not.toBe(stoken);
  });

  it('needs a bearer token', async () => {
    const response = await fetch(`${t.baseUrl}/api/v1/stream-tokens`, { method: 'POST' });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});

describe('GET /api/v1/stream', () => {
  it('streams the tenant’s events from a missed call, with ids and names, starting from now', async () => {
    const [old] = await writeEvents([t.demo.id]);
    const stream = await openStream(streamUrl((await mint(demoBearer)).stoken));
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.response.headers.get('cache-control')).toBe('no-cache');
      expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
      await t.phone.missedCall({ from: '+13105550142', to: DEMO.twilio_number });
      const missed = await waitFor(async () =>
        stream.events().find((e) => e.event === 'nmc.conversation.MissedCallRecorded'),
      );
      expect(missed.envelope).toMatchObject({
        event_name: 'nmc.conversation.MissedCallRecorded',
        tenant_id: t.demo.id,
        schema_version: 1,
      });
      expect(Object.keys(missed.envelope).sort()).toEqual(
        [
          'causation_id',
          'correlation_id',
          'event_id',
          'event_name',
          'occurred_at',
          'payload',
          'schema_version',
          'tenant_id',
        ].sort(),
      );
      const { rows } = await t.system.db.query<{ seq: number }>(
        'SELECT seq FROM outbox_events WHERE event_id = $1',
        [missed.envelope.event_id],
      );
      expect(missed.id).toBe(String(rows[0]?.seq));
      const ids = stream.events().map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => id > (old?.seq ?? 0))).toBe(true);
      for (const event of stream.events()) expect(event.event).toBe(event.envelope.event_name);
    } finally {
      await stream.close();
    }
  });

  it('two tenants streaming at once each see only their own events; the tenant comes from the stoken', async () => {
    const demoStream = await openStream(streamUrl((await mint(demoBearer)).stoken));
    // A bearer token for the demo tenant beside the other tenant's stoken changes nothing.
    const otherStream = await openStream(streamUrl((await mint(otherBearer)).stoken), {
      authorization: `Bearer ${demoBearer}`,
    });
    try {
      const written = await writeEvents([otherTenantId, t.demo.id, otherTenantId, t.demo.id]);
      const [other1, demo1, other2, demo2] = written;
      await hasMarker(demoStream, demo2?.marker ?? '');
      await hasMarker(otherStream, other2?.marker ?? '');
      const seen = (s: Stream) => s.events().map((e) => e.envelope.payload.conversation_id);
      expect(demoStream.events().every((e) => e.envelope.tenant_id === t.demo.id)).toBe(true);
      expect(otherStream.events().every((e) => e.envelope.tenant_id === otherTenantId)).toBe(true);
      expect(seen(demoStream)).toEqual(expect.arrayContaining([demo1?.marker, demo2?.marker]));
      expect(seen(demoStream)).not.toContain(other1?.marker);
      expect(seen(otherStream)).toEqual([other1?.marker, other2?.marker]);
    } finally {
      await demoStream.close();
      await otherStream.close();
    }
  });

  it('refuses an expired, a reused and an unknown stoken with 401', async () => {
    const expired = (await mint(demoBearer)).stoken;
    await t.system.db.query(
      "UPDATE id_stream_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
      [createHash('sha256').update(expired).digest('hex')],
    );
    const reused = (await mint(demoBearer)).stoken;
    const first = await openStream(streamUrl(reused));
    expect(first.response.status).toBe(200);
    await first.close();
    for (const stoken of [expired, reused, 'x'.repeat(43)]) {
      const response = await fetch(streamUrl(stoken));
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.message).not.toContain(stoken);
    }
  });

  it('does not accept a bearer token as the credential, in the query or in the header', async () => {
    const attempts = [
      { url: streamUrl(demoBearer), status: 400 },
      { url: streamUrl(demoBearer.slice(0, 200)), status: 401 },
      { url: `${t.baseUrl}/api/v1/stream?access_token=${demoBearer}`, status: 400 },
      { url: `${t.baseUrl}/api/v1/stream`, status: 400, headers: { authorization: `Bearer ${demoBearer}` } },
    ];
    for (const attempt of attempts) {
      const response = await fetch(attempt.url, { headers: attempt.headers ?? {} });
      expect(response.status, attempt.url).toBe(attempt.status);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      await response.body?.cancel();
    }
  });

  it('resumes after Last-Event-ID (header or query) with exactly the events after it', async () => {
    const written = await writeEvents([t.demo.id, t.demo.id, otherTenantId, t.demo.id]);
    const [first, second, , fourth] = written;
    const byHeader = await openStream(streamUrl((await mint(demoBearer)).stoken), {
      'last-event-id': String(first?.seq),
    });
    const byQuery = await openStream(
      `${streamUrl((await mint(demoBearer)).stoken)}&last_event_id=${first?.seq}`,
    );
    try {
      for (const stream of [byHeader, byQuery]) {
        await hasMarker(stream, fourth?.marker ?? '');
        expect(stream.events().map((e) => Number(e.id))).toEqual([second?.seq, fourth?.seq]);
      }
      // And live from there, without repeats.
      const [fifth] = await writeEvents([t.demo.id]);
      for (const stream of [byHeader, byQuery]) {
        await hasMarker(stream, fifth?.marker ?? '');
        expect(stream.events().map((e) => Number(e.id))).toEqual([second?.seq, fourth?.seq, fifth?.seq]);
      }
    } finally {
      await byHeader.close();
      await byQuery.close();
    }
  });

  it('does not jump over an event whose transaction commits after a later one', async () => {
    const stream = await openStream(streamUrl((await mint(demoBearer)).stoken));
    const slow = await t.system.db.connect();
    try {
      await slow.query('BEGIN');
      const [early] = await writeOutboxEvents(slow, [
        {
          tenantId: t.demo.id,
          name: 'nmc.conversation.ConversationStarted',
          payload: { conversation_id: randomUUID() },
          occurredAt: new Date().toISOString(),
          correlationId: 'test-slow',
          causationId: null,
        },
      ]);
      const [late] = await writeEvents([t.demo.id]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The later seq is held back while the earlier one is still in flight...
      expect(stream.events().map((e) => Number(e.id))).not.toContain(late?.seq);
      await slow.query('COMMIT');
      await hasMarker(stream, late?.marker ?? '');
      // ...and both arrive, in seq order.
      expect(stream.events().map((e) => e.envelope.event_id)).toEqual([early?.event_id, expect.any(String)]);
      expect(stream.events().map((e) => Number(e.id))[1]).toBe(late?.seq);
    } finally {
      slow.release();
      await stream.close();
    }
  });

  it('rejects a Last-Event-ID that is not an event id', async () => {
    const { stoken } = await mint(demoBearer);
    const response = await fetch(streamUrl(stoken), { headers: { 'last-event-id': 'abc' } });
    expect(response.status).toBe(400);
    // Rejected before the stoken is spent: it still opens a stream.
    const stream = await openStream(streamUrl(stoken));
    expect(stream.response.status).toBe(200);
    await stream.close();
  });

  it('is documented in the OpenAPI document as text/event-stream', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(JSON.stringify(doc.paths['/api/v1/stream']?.get)).toContain('text/event-stream');
    expect(doc.paths['/api/v1/stream-tokens']?.post).toBeDefined();
  });
});

describe('the stream on an app of its own (heartbeat, hub, unavailable)', () => {
  let hub: StreamHub;
  let app: App;
  let baseUrl: string;
  beforeAll(async () => {
    hub = createStreamHub({
      db: t.system.db,
      connectionString: t.system.databaseUrl,
      logger: captureLogger('info').logger,
      heartbeatMs: 50,
      pollIntervalMs: 100,
      gapTimeoutMs: 300,
    });
    await hub.start();
    ({ app } = await buildTestApp(t.system.db, {
      streamHub: hub,
      auth: await createOperatorAuth(t.system.config),
    }));
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    // fetch's pool may hold a spare connection that never carried a request; server.close() would
    // wait for the client's keep-alive timeout (4 s) to let go of it.
    app?.server.closeAllConnections();
    await app?.close();
    await hub?.stop();
  });

  it('sends a heartbeat comment at the configured interval, and unsubscribes when the client goes', async () => {
    const stream = await openStream(streamUrl((await mint(demoBearer, baseUrl)).stoken, baseUrl));
    try {
      await waitFor(async () => stream.messages.filter((m) => m.comments.includes('heartbeat')).length >= 2);
      expect(hub.subscriberCount()).toBe(1);
    } finally {
      await stream.close();
    }
    await waitFor(async () => hub.subscriberCount() === 0);
  });

  it('moves past a rolled-back seq once it is older than the gap timeout', async () => {
    const stream = await openStream(streamUrl((await mint(demoBearer, baseUrl)).stoken, baseUrl));
    try {
      const aborted = await t.system.db.connect();
      try {
        await aborted.query('BEGIN');
        await writeOutboxEvents(aborted, [
          {
            tenantId: t.demo.id,
            name: 'nmc.conversation.ConversationStarted',
            payload: { conversation_id: randomUUID() },
            occurredAt: new Date().toISOString(),
            correlationId: 'test-rollback',
            causationId: null,
          },
        ]);
        await aborted.query('ROLLBACK');
      } finally {
        aborted.release();
      }
      const [after] = await writeEvents([t.demo.id]);
      const event = await hasMarker(stream, after?.marker ?? '');
      expect(event.id).toBe(String(after?.seq));
    } finally {
      await stream.close();
    }
  });

  it('ends open streams when the server closes', async () => {
    const { app: closing } = await buildTestApp(t.system.db, {
      streamHub: hub,
      auth: await createOperatorAuth(t.system.config),
    });
    const url = await closing.listen({ port: 0, host: '127.0.0.1' });
    const stream = await openStream(streamUrl((await mint(demoBearer, url)).stoken, url));
    await waitFor(async () => hub.subscriberCount() === 1);
    await closing.close();
    expect(hub.subscriberCount()).toBe(0);
    await stream.close();
  });

  it('answers 503 without a hub, and leaves the stoken unspent', async () => {
    const { app: hubless } = await buildTestApp(t.system.db);
    const { stoken } = await mint(demoBearer);
    const response = await hubless.inject({ method: 'GET', url: `/api/v1/stream?stoken=${stoken}` });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('unavailable');
    await hubless.close();
    const stream = await openStream(streamUrl(stoken, baseUrl));
    expect(stream.response.status).toBe(200);
    await stream.close();
  });
});

describe('logs', () => {
  it('never contain a stoken, and name the route rather than the URL', async () => {
    expect(minted.length).toBeGreaterThan(5);
    const lines = t.logLines();
    for (const stoken of minted) {
      expect(lines.filter((line) => line.includes(stoken))).toEqual([]);
    }
    expect(lines.some((line) => line.includes('"route":"/api/v1/stream"'))).toBe(true);
    expect(lines.some((line) => line.includes('stoken='))).toBe(false);
  });
});
