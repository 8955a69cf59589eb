import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Logger } from '../../../observability/logger.ts';
import { readBody } from '../../sandbox-body.ts';
import { listenOnLoopback } from '../../sandbox-server.ts';
import { JOBBER_SIGNATURE_HEADER, jobberSignature } from '../webhook-signature.ts';
import { MAX_PAGE } from './page-size.ts';

// A stand-in for the slice of Jobber's API that NMC uses, on the wire as Jobber's: OAuth
// (/api/oauth/authorize, /api/oauth/token for the code and refresh grants), the GraphQL endpoint
// (/api/graphql, Bearer access token, X-JOBBER-GRAPHQL-VERSION) executing the schema subset in
// ./schema.ts with graphql-js, and app webhooks (VISIT_CREATE, VISIT_UPDATE, VISIT_DESTROY,
// APP_DISCONNECT) POSTed to the app's webhook URL, signed with X-Jobber-Hmac-SHA256. One Jobber
// account, with the app installed once a grant exists.
//
// What must stay true:
// - Loopback only; GraphQL needs a live access token (401 otherwise: the client refreshes).
// - Query cost as Jobber documents it: a leaky bucket per account (maximumAvailable 10000,
//   restoreRate 500/s); a query whose requested cost exceeds what is available answers 200 with a
//   THROTTLED error and the cost in `extensions`, as every answer carries it.
// - Faults on demand: the next N GraphQL requests answer an HTTP status (429 from Jobber's
//   request-rate middleware, 500…), or are THROTTLED; webhooks can be dropped.
// - Changes through the API and through the owner's helpers (a person using Jobber) both send
//   webhooks.

export const SANDBOX_JOBBER_ACCOUNT_ID = Buffer.from('gid://Jobber/Account/1001').toString('base64');
export const SANDBOX_JOBBER_APP_ID = '5d0c7e0a-5a1e-4c6b-9d0e-6a3b7f1c2d4e';
const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
const CODE_TTL_MS = 10 * 60_000;
const MAX_BODY_BYTES = 256 * 1024;

export type SandboxVisit = {
  id: string;
  title: string | null;
  instructions: string | null;
  startAt: string | null;
  endAt: string | null;
  allDay: boolean;
  visitStatus: 'ACTIVE' | 'COMPLETED' | 'LATE' | 'TODAY' | 'UPCOMING' | 'UNSCHEDULED';
  createdAt: string;
};

export type JobberTopic = 'VISIT_CREATE' | 'VISIT_UPDATE' | 'VISIT_DESTROY' | 'APP_DISCONNECT';

export type WebhookDelivery = {
  topic: JobberTopic;
  itemId: string;
  /** Our webhook's answer, or null when dropped or unreachable. */
  status: number | null;
  dropped: boolean;
};

export type JobberFault = { status: number; message?: string };

export type ThrottleStatus = { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };

export interface JobberSandboxOptions {
  clientId: string;
  clientSecret: string;
  /** Where the app's webhooks go (set in Jobber's Developer Center for a real app). */
  webhookUrl?: string;
  port?: number;
  logger?: Logger;
}

export interface JobberSandbox {
  /** What JOBBER_API_BASE_URL is for this sandbox. */
  readonly url: string;
  readonly accountId: string;
  visits(): SandboxVisit[];
  /** A person schedules a visit in Jobber; VISIT_CREATE is sent. */
  addVisit(input: { startAt: string; endAt: string; title?: string; instructions?: string }): SandboxVisit;
  moveVisit(id: string, startAt: string, endAt: string): SandboxVisit;
  deleteVisit(id: string): void;
  setWebhookUrl(url: string): void;
  /** Sends a webhook as Jobber would (used to replay one). */
  sendWebhook(topic: JobberTopic, itemId: string, occurredAt?: string): Promise<WebhookDelivery>;
  failNext(count: number, fault: JobberFault): void;
  throttleNext(count: number): void;
  throttleStatus(): ThrottleStatus;
  dropNextWebhooks(count: number): void;
  expireAccessTokens(): void;
  /** Jobber's Refresh Token Rotation: each refresh answers a new refresh token and ends the old. */
  setRefreshTokenRotation(on: boolean): void;
  denyNextConsent(count?: number): void;
  liveRefreshTokens(): string[];
  deliveries(): WebhookDelivery[];
  /** Every request: method, path, status, and the GraphQL version header and operation name. */
  requests(): Array<{
    method: string;
    path: string;
    status: number;
    version: string | null;
    operation: string | null;
  }>;
  settle(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

const encodedId = (kind: string, n: number) => Buffer.from(`gid://Jobber/${kind}/${n}`).toString('base64');

function parseDateTime(value: unknown, field: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new Error(`${field} is not an ISO 8601 date-time`);
  }
  return new Date(value).toISOString();
}

/** LocalDateTimeAttributes → instant; the sandbox reads UTC and fixed-offset zones only. */
function localDateTime(value: { date: string; time?: string | null; timezone: string }): string {
  const time = value.time ?? '00:00:00';
  const zone = value.timezone === 'UTC' || value.timezone === 'Etc/UTC' ? 'Z' : value.timezone;
  const at = Date.parse(`${value.date}T${time}${zone}`);
  if (Number.isNaN(at)) throw new Error(`unreadable date ${value.date} ${time} ${value.timezone}`);
  return new Date(at).toISOString();
}

export async function startJobberSandbox(options: JobberSandboxOptions): Promise<JobberSandbox> {
  let webhookUrl = options.webhookUrl ?? null;
  let nextId = 1;
  const visits = new Map<string, SandboxVisit>();
  const codes = new Map<string, { redirectUri: string; expiresAt: number }>();
  const refreshTokens = new Set<string>();
  const accessTokens = new Map<string, { refreshToken: string; expiresAt: number }>();
  let denyConsents = 0;
  let rotation = false;
  let faults: JobberFault[] = [];
  let throttles = 0;
  let dropWebhooks = 0;
  const bucket = { maximumAvailable: 10_000, currentlyAvailable: 10_000, restoreRate: 500, at: Date.now() };
  let deliveries: WebhookDelivery[] = [];
  let requests: ReturnType<JobberSandbox['requests']> = [];
  const inFlight = new Set<Promise<unknown>>();

  function restore(): void {
    const now = Date.now();
    bucket.currentlyAvailable = Math.min(
      bucket.maximumAvailable,
      bucket.currentlyAvailable + ((now - bucket.at) / 1000) * bucket.restoreRate,
    );
    bucket.at = now;
  }

  function throttleStatus(): ThrottleStatus {
    restore();
    return {
      maximumAvailable: bucket.maximumAvailable,
      currentlyAvailable: Math.floor(bucket.currentlyAvailable),
      restoreRate: bucket.restoreRate,
    };
  }

  function installed(): boolean {
    return refreshTokens.size > 0;
  }

  async function deliver(topic: JobberTopic, itemId: string, occurredAt: string): Promise<WebhookDelivery> {
    const delivery: WebhookDelivery = { topic, itemId, status: null, dropped: false };
    deliveries.push(delivery);
    if (dropWebhooks > 0) {
      dropWebhooks -= 1;
      delivery.dropped = true;
      return delivery;
    }
    if (!webhookUrl) return delivery;
    const body = JSON.stringify({
      data: {
        webHookEvent: {
          topic,
          appId: SANDBOX_JOBBER_APP_ID,
          accountId: SANDBOX_JOBBER_ACCOUNT_ID,
          itemId,
          occurredAt,
        },
      },
    });
    try {
      const res = await fetch(webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [JOBBER_SIGNATURE_HEADER]: jobberSignature(options.clientSecret, body),
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      delivery.status = res.status;
      await res.arrayBuffer();
    } catch (err) {
      options.logger?.warn({ err, topic }, 'jobber sandbox webhook not delivered');
    }
    return delivery;
  }

  function notify(topic: JobberTopic, itemId: string): void {
    if (!installed() && topic !== 'APP_DISCONNECT') return;
    const sent = deliver(topic, itemId, new Date().toISOString());
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  }

  function createVisit(input: {
    title: string | null;
    instructions: string | null;
    startAt: string;
    endAt: string;
  }): SandboxVisit {
    const visit: SandboxVisit = {
      id: encodedId('Visit', nextId++),
      title: input.title,
      instructions: input.instructions,
      startAt: input.startAt,
      endAt: input.endAt,
      allDay: false,
      visitStatus: 'UPCOMING',
      createdAt: new Date().toISOString(),
    };
    visits.set(visit.id, visit);
    notify('VISIT_CREATE', visit.id);
    return visit;
  }

  const notFound = (id: string) => ({ message: `Visit ${id} not found`, path: ['id'] });

  const root = {
    account: () => ({ id: SANDBOX_JOBBER_ACCOUNT_ID, name: 'Sandbox Plumbing Co.' }),
    visit: ({ id }: { id: string }) => visits.get(id) ?? null,
    visits: (args: {
      first?: number | null;
      after?: string | null;
      filter?: { startAt?: { after?: string | null; before?: string | null } | null } | null;
    }) => {
      const first = Math.min(args.first ?? MAX_PAGE, MAX_PAGE);
      const after = args.filter?.startAt?.after ? Date.parse(args.filter.startAt.after) : null;
      const before = args.filter?.startAt?.before ? Date.parse(args.filter.startAt.before) : null;
      const all = [...visits.values()]
        .filter((v) => {
          if (after === null && before === null) return true;
          if (v.startAt === null) return false;
          const start = Date.parse(v.startAt);
          return (after === null || start >= after) && (before === null || start <= before);
        })
        .sort((a, b) => (a.startAt ?? '').localeCompare(b.startAt ?? '') || a.id.localeCompare(b.id));
      const offset = args.after ? Number(Buffer.from(args.after, 'base64').toString('utf8')) : 0;
      if (!Number.isSafeInteger(offset) || offset < 0) throw new Error('after is not a cursor');
      const nodes = all.slice(offset, offset + first);
      const end = offset + nodes.length;
      return {
        nodes,
        totalCount: all.length,
        pageInfo: {
          endCursor: nodes.length > 0 ? Buffer.from(String(end)).toString('base64') : null,
          hasNextPage: end < all.length,
        },
      };
    },
    visitCreate: ({
      input,
    }: {
      input: { title: string; instructions?: string | null; startAt: string; endAt: string };
    }) => {
      const startAt = parseDateTime(input.startAt, 'startAt');
      const endAt = parseDateTime(input.endAt, 'endAt');
      if (Date.parse(endAt) <= Date.parse(startAt)) {
        return { visit: null, userErrors: [{ message: 'endAt must be after startAt', path: ['endAt'] }] };
      }
      return {
        visit: createVisit({ title: input.title, instructions: input.instructions ?? null, startAt, endAt }),
        userErrors: [],
      };
    },
    visitEditSchedule: ({
      id,
      input,
    }: {
      id: string;
      input: {
        startAt: { date: string; time?: string | null; timezone: string };
        endAt: { date: string; time?: string | null; timezone: string };
      };
    }) => {
      const visit = visits.get(id);
      if (!visit) return { visit: null, userErrors: [notFound(id)] };
      const startAt = localDateTime(input.startAt);
      const endAt = localDateTime(input.endAt);
      if (Date.parse(endAt) <= Date.parse(startAt)) {
        return { visit: null, userErrors: [{ message: 'endAt must be after startAt', path: ['endAt'] }] };
      }
      visit.startAt = startAt;
      visit.endAt = endAt;
      notify('VISIT_UPDATE', visit.id);
      return { visit, userErrors: [] };
    },
    visitDelete: ({ id }: { id: string }) => {
      if (!visits.delete(id)) return { deletedVisitId: null, userErrors: [notFound(id)] };
      notify('VISIT_DESTROY', id);
      return { deletedVisitId: id, userErrors: [] };
    },
    appDisconnect: (_args: unknown, context: { refreshToken: string }) => {
      refreshTokens.delete(context.refreshToken);
      for (const [token, grant] of accessTokens) {
        if (grant.refreshToken === context.refreshToken) accessTokens.delete(token);
      }
      notify('APP_DISCONNECT', SANDBOX_JOBBER_ACCOUNT_ID);
      return { app: { name: 'NeverMissCall', author: 'NeverMissCall' }, userErrors: [] };
    },
  };

  function issueAccessToken(refreshToken: string) {
    const expiresAt = Date.now() + ACCESS_TOKEN_TTL_MS;
    // Jobber's access tokens are JWTs whose payload carries `exp`; this one's signature means nothing.
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({
      exp: Math.floor(expiresAt / 1000),
      account_id: SANDBOX_JOBBER_ACCOUNT_ID,
      jti: randomUUID(),
    })}.${randomBytes(16).toString('base64url')}`;
    accessTokens.set(token, { refreshToken, expiresAt });
    return token;
  }

  function token(form: URLSearchParams): Answer {
    if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code || code.expiresAt < Date.now() || code.redirectUri !== form.get('redirect_uri')) {
        return { status: 400, body: { error: 'invalid_grant' } };
      }
      const refreshToken = randomBytes(16).toString('hex');
      refreshTokens.add(refreshToken);
      return {
        status: 200,
        body: { access_token: issueAccessToken(refreshToken), refresh_token: refreshToken },
      };
    }
    if (grant === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      if (!refreshTokens.has(refreshToken)) return { status: 401, body: { error: 'invalid_grant' } };
      if (!rotation) {
        // Refresh Token Rotation OFF: the same refresh token comes back.
        return {
          status: 200,
          body: { access_token: issueAccessToken(refreshToken), refresh_token: refreshToken },
        };
      }
      refreshTokens.delete(refreshToken);
      for (const [access, grant] of accessTokens) {
        if (grant.refreshToken === refreshToken) accessTokens.delete(access);
      }
      const next = randomBytes(16).toString('hex');
      refreshTokens.add(next);
      return { status: 200, body: { access_token: issueAccessToken(next), refresh_token: next } };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  function authorize(query: URLSearchParams): Answer {
    const redirectUri = query.get('redirect_uri');
    if (
      query.get('client_id') !== options.clientId ||
      !redirectUri ||
      query.get('response_type') !== 'code'
    ) {
      return { status: 400, body: { error: 'invalid_request' } };
    }
    // Denied: Jobber sends the browser back with no parameters at all.
    if (denyConsents > 0) {
      denyConsents -= 1;
      return { status: 302, headers: { location: redirectUri } };
    }
    const code = randomBytes(16).toString('hex');
    codes.set(code, { redirectUri, expiresAt: Date.now() + CODE_TTL_MS });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    const state = query.get('state');
    if (state) back.searchParams.set('state', state);
    return { status: 302, headers: { location: back.toString() } };
  }

  async function graphql(req: IncomingMessage, raw: string): Promise<Answer & { operation?: string | null }> {
    const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = bearer ? accessTokens.get(bearer) : undefined;
    if (!grant || grant.expiresAt <= Date.now() || !refreshTokens.has(grant.refreshToken)) {
      return { status: 401, body: { message: 'Invalid Token Error', error: 'invalid_request' } };
    }
    if (typeof req.headers['x-jobber-graphql-version'] !== 'string') {
      return { status: 400, body: { errors: [{ message: 'X-JOBBER-GRAPHQL-VERSION header is required' }] } };
    }
    const fault = faults.shift();
    if (fault)
      return { status: fault.status, body: { errors: [{ message: fault.message ?? 'sandbox fault' }] } };
    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(raw) as typeof request;
    } catch {
      return { status: 400, body: { errors: [{ message: 'the body is not JSON' }] } };
    }
    if (typeof request.query !== 'string')
      return { status: 400, body: { errors: [{ message: 'no query' }] } };
    const variables =
      request.variables && typeof request.variables === 'object'
        ? (request.variables as Record<string, unknown>)
        : {};
    // graphql-js and the schema load at the first query: `npm start` runs this sandbox whether or
    // not anyone connects to Jobber, and an idle one need not carry them.
    const [{ execute, parse, validate }, { jobberSchema, requestedQueryCost }] = await Promise.all([
      import('graphql'),
      import('./schema.ts'),
    ]);
    let document: DocumentNode;
    try {
      document = parse(request.query);
    } catch (err) {
      return { status: 200, body: { errors: [{ message: (err as Error).message }] } };
    }
    const operation = typeof request.operationName === 'string' ? request.operationName : null;
    const invalid = validate(jobberSchema, document);
    if (invalid.length > 0)
      return { status: 200, body: { errors: invalid.map((e) => e.toJSON()) }, operation };
    const requested = requestedQueryCost(document, variables);
    restore();
    if (throttles > 0 || requested > bucket.currentlyAvailable) {
      if (throttles > 0) {
        throttles -= 1;
        // A throttled account: as if the bucket had just been drained by other queries.
        bucket.currentlyAvailable = Math.min(
          bucket.currentlyAvailable,
          Math.max(0, requested - bucket.restoreRate),
        );
      }
      return {
        status: 200,
        operation,
        body: {
          errors: [
            {
              message: 'Throttled',
              extensions: {
                code: 'THROTTLED',
                documentation: 'https://developer.getjobber.com/docs/using_jobbers_api/api_rate_limits',
              },
            },
          ],
          extensions: {
            cost: { requestedQueryCost: requested, actualQueryCost: 0, throttleStatus: throttleStatus() },
          },
        },
      };
    }
    const result: ExecutionResult = await execute({
      schema: jobberSchema,
      document,
      rootValue: root,
      contextValue: { refreshToken: grant.refreshToken },
      variableValues: variables,
      ...(operation ? { operationName: operation } : {}),
    });
    bucket.currentlyAvailable -= requested;
    return {
      status: 200,
      operation,
      body: {
        ...result,
        extensions: {
          cost: {
            requestedQueryCost: requested,
            actualQueryCost: requested,
            throttleStatus: throttleStatus(),
          },
        },
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const raw = await readBody(req, MAX_BODY_BYTES);
    let answer: Answer & { operation?: string | null };
    if (raw === null) answer = { status: 413, body: { error: 'too large' } };
    else if (url.pathname === '/api/oauth/authorize' && method === 'GET')
      answer = authorize(url.searchParams);
    else if (url.pathname === '/api/oauth/token' && method === 'POST')
      answer = token(new URLSearchParams(raw));
    else if (url.pathname === '/api/graphql' && method === 'POST') answer = await graphql(req, raw);
    else answer = { status: 404, body: { error: 'not_found' } };
    const version = req.headers['x-jobber-graphql-version'];
    requests.push({
      method,
      path: url.pathname,
      status: answer.status,
      version: typeof version === 'string' ? version : null,
      operation: answer.operation ?? null,
    });
    res.writeHead(answer.status, {
      ...(answer.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      ...answer.headers,
    });
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  }

  const server = await listenOnLoopback({
    ...(options.port ? { port: options.port } : {}),
    handle,
    onFailure: (err, res) => {
      options.logger?.error({ err }, 'jobber sandbox failed a request');
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'sandbox failure' }] }));
    },
  });

  return {
    url: server.url,
    accountId: SANDBOX_JOBBER_ACCOUNT_ID,
    visits: () => [...visits.values()].map((v) => ({ ...v })),
    addVisit: (input) =>
      createVisit({
        title: input.title ?? 'Visit',
        instructions: input.instructions ?? null,
        startAt: new Date(input.startAt).toISOString(),
        endAt: new Date(input.endAt).toISOString(),
      }),
    moveVisit(id, startAt, endAt) {
      const visit = visits.get(id);
      if (!visit) throw new Error(`no visit ${id}`);
      visit.startAt = new Date(startAt).toISOString();
      visit.endAt = new Date(endAt).toISOString();
      notify('VISIT_UPDATE', id);
      return { ...visit };
    },
    deleteVisit(id) {
      if (visits.delete(id)) notify('VISIT_DESTROY', id);
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    sendWebhook: (topic, itemId, occurredAt) =>
      deliver(topic, itemId, occurredAt ?? new Date().toISOString()),
    failNext(count, fault) {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    throttleNext(count) {
      throttles += count;
    },
    throttleStatus,
    dropNextWebhooks(count) {
      dropWebhooks += count;
    },
    expireAccessTokens() {
      for (const grant of accessTokens.values()) grant.expiresAt = 0;
    },
    setRefreshTokenRotation(on) {
      rotation = on;
    },
    denyNextConsent(count = 1) {
      denyConsents += count;
    },
    liveRefreshTokens: () => [...refreshTokens],
    deliveries: () => deliveries.map((d) => ({ ...d })),
    requests: () => [...requests],
    async settle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    reset() {
      visits.clear();
      faults = [];
      throttles = 0;
      dropWebhooks = 0;
      deliveries = [];
      requests = [];
      bucket.currentlyAvailable = bucket.maximumAvailable;
    },
    close: () => server.close(),
  };
}
