import { timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../observability/logger.ts';
import { readBody } from '../../sandbox-body.ts';
import { signTwilioRequest } from '../signature.ts';
import { createFaultPlan, type DeliveryFailure, type HttpFault } from './faults.ts';
import {
  API_VERSION,
  countSegments,
  type SandboxMessage,
  type SandboxMessageStatus,
  type Timestamp,
  toMessageResource,
} from './message-resource.ts';
import { defaultCodeForStatus, twilioErrorBody } from './rest-error.ts';
import { newSid } from './sids.ts';
import { postSignedForm } from './signed-form-post.ts';
import {
  createTrafficStore,
  type FormParams,
  type RecordedCallback,
  type RecordedRequest,
  type TrafficStore,
  waitForTraffic,
} from './traffic-store.ts';

// A stand-in for the slice of Twilio's REST API that NMC uses (send a message, fetch it back, list
// messages by To/From/DateSent> to check whether an ambiguous send went through), close
// enough on the wire that the real `twilio` SDK talks to it unchanged through createTwilioClient's
// apiBaseUrl. After accepting a message it plays the carrier: the message moves queued → sent →
// delivered on timers, and each step is announced to the message's StatusCallback with a signed
// webhook, as Twilio does. Tests read the traffic from an @xstate/store store and script faults.
//
// What must stay true:
// - It listens on 127.0.0.1 only: it is a test double, never a service.
// - A delayed answer is still processed: the message exists even if the client gave up waiting.
//   That is the real ambiguity of a timeout (Twilio may have sent it), which callers must survive.
// - Statuses move on their own timers whether or not callbacks are sent, so the "poll when the
//   callback never came" path can be tested with callbacks disabled or dropped.

export interface SandboxDeliveryOptions {
  /** Delay from acceptance to `sent`. Default 5 ms. */
  sentAfterMs?: number;
  /** Delay from `sent` to `delivered` (or `undelivered`). Default 5 ms. */
  deliveredAfterMs?: number;
  /** Send signed status callbacks to each message's StatusCallback. Default true. */
  callbacks?: boolean;
  /** Send the final callback before the `sent` one, as carriers sometimes do. Default false. */
  outOfOrder?: boolean;
}

export interface TwilioSandboxOptions {
  accountSid: string;
  authToken: string;
  /** Default 0: any free port. */
  port?: number;
  /** false: messages stay `queued` and no callback is ever sent. */
  delivery?: SandboxDeliveryOptions | false;
  /** How long a status callback may take before it is recorded as an error. Default 5000 ms. */
  callbackTimeoutMs?: number;
  /** Warnings about failed callbacks; never given numbers, bodies or tokens. */
  logger?: Logger;
}

export interface TwilioSandbox {
  /** Base URL to give createTwilioClient as apiBaseUrl, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly accountSid: string;
  readonly store: TrafficStore;
  messages(): SandboxMessage[];
  message(sid: string): SandboxMessage | undefined;
  requests(): RecordedRequest[];
  callbacks(): RecordedCallback[];
  /** Resolves with all accepted messages once there are at least `count`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<SandboxMessage[]>;
  /** Resolves with all recorded callbacks (answered, failed or dropped) once there are at least `count`. */
  waitForCallbacks(count: number, timeoutMs?: number): Promise<RecordedCallback[]>;
  /** The next `count` authenticated API requests answer this error instead (no message is created). */
  failNext(count: number, fault: HttpFault): void;
  /** The next `count` authenticated API requests are processed, but answered `ms` later. */
  delayNext(count: number, ms: number): void;
  /** Every create to `number` is refused with 400 and `code` (21610 opted out, 21211 invalid, 21614 not mobile). */
  rejectTo(number: string, code: number): void;
  /** Messages to `number` are accepted, then end `undelivered`/`failed` with the given ErrorCode. */
  undeliverableTo(number: string, failure: DeliveryFailure): void;
  /** The next `count` status callbacks are not sent (recorded as dropped); statuses still move. */
  dropNextCallbacks(count: number): void;
  clearFaults(): void;
  /** Forget all faults and recorded traffic. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SMS_BODY_CHARS = 1600;
// Shape only: whether a number really exists is the app's business (src/domain/phone.ts). A stricter
// check here would refuse the fictional numbers tests use and diverge from what the app validated.
const E164_SHAPE = /^\+[1-9]\d{7,14}$/;
const CREATE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const LIST_PAGE_SIZE_DEFAULT = 50;
const LIST_PAGE_SIZE_MAX = 1000;
const FETCH_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/;

interface Answer {
  status: number;
  body: unknown;
  code: number | null;
  messageSid: string | null;
  headers?: Record<string, string>;
}

function now(): Timestamp {
  return { monotonicMs: performance.now(), date: new Date() };
}

function errorAnswer(status: number, code: number, message?: string): Answer {
  return { status, body: twilioErrorBody(status, code, message), code, messageSid: null };
}

function first(params: FormParams, key: string): string | undefined {
  const value = params[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function all(params: FormParams, key: string): string[] {
  const value = params[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as string];
}

function parseForm(raw: string): FormParams {
  // Null prototype: a hostile key such as `__proto__` stays an ordinary key.
  const params: FormParams = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing as string, value];
  }
  return params;
}

function credentialsMatch(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false;
  const given = Buffer.from(Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8'));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startTwilioSandbox(options: TwilioSandboxOptions): Promise<TwilioSandbox> {
  const { accountSid, authToken, logger } = options;
  if (accountSid.length === 0 || authToken.length === 0) {
    throw new TypeError('startTwilioSandbox: accountSid and authToken are required');
  }
  const delivery =
    options.delivery === false
      ? null
      : {
          sentAfterMs: options.delivery?.sentAfterMs ?? 5,
          deliveredAfterMs: options.delivery?.deliveredAfterMs ?? 5,
          callbacks: options.delivery?.callbacks ?? true,
          outOfOrder: options.delivery?.outOfOrder ?? false,
        };
  const callbackTimeoutMs = options.callbackTimeoutMs ?? 5000;
  const expectedCredentials = Buffer.from(`${accountSid}:${authToken}`);
  const store = createTrafficStore();
  const faults = createFaultPlan();
  const shutdown = new AbortController();
  // Every pending timer (delivery steps, delayed answers) listens for shutdown; hundreds are normal in a bench.
  setMaxListeners(0, shutdown.signal);
  const background = new Set<Promise<void>>();
  let nextRequestId = 1;

  function track(task: Promise<void>): void {
    background.add(task);
    void task.finally(() => background.delete(task));
  }

  function changeStatus(sid: string, status: SandboxMessageStatus, errorCode: number | null): void {
    store.trigger.messageStatusChanged({ sid, status, errorCode, at: new Date() });
  }

  async function sendCallback(
    message: SandboxMessage,
    status: SandboxMessageStatus,
    errorCode: number | null,
  ) {
    const url = message.statusCallback;
    if (url === null || delivery === null || !delivery.callbacks) return;
    const params: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: API_VERSION,
      From: message.from,
      MessageSid: message.sid,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
    };
    if (errorCode !== null) params.ErrorCode = String(errorCode);
    const signature = signTwilioRequest(authToken, url, params);
    const record = (outcome: RecordedCallback['outcome'], sentAt: Timestamp) =>
      store.trigger.callbackRecorded({
        callback: { messageSid: message.sid, status, url, params, signature, sentAt, outcome },
      });
    const sentAt = now();
    if (faults.takeCallbackDrop()) {
      record({ kind: 'dropped' }, sentAt);
      return;
    }
    try {
      const response = await postSignedForm({
        url,
        authToken,
        params,
        signature,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(callbackTimeoutMs)]),
      });
      record({ kind: 'answered', status: response.status }, sentAt);
    } catch (err) {
      if (shutdown.signal.aborted) return;
      // fetch reports "fetch failed" and keeps the socket error (ECONNREFUSED…) in `cause`.
      const cause =
        err instanceof Error && err.cause instanceof Error
          ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})`
          : '';
      const reason = `${err instanceof Error ? err.message : String(err)}${cause}`;
      logger?.warn({ messageSid: message.sid, status, reason }, 'twilio sandbox: status callback failed');
      record({ kind: 'error', message: reason }, sentAt);
    }
  }

  // Plays the carrier for one accepted message. Callbacks for one message are sent one after the
  // other, so "in order" really means the receiver sees `sent` answered before `delivered` leaves.
  async function deliver(message: SandboxMessage): Promise<void> {
    if (delivery === null) return;
    const signal = shutdown.signal;
    const failure = faults.deliveryFailureFor(message.to);
    const steps: Array<{ status: SandboxMessageStatus; errorCode: number | null; afterMs: number }> =
      failure?.status === 'failed'
        ? [{ status: 'failed', errorCode: failure.errorCode, afterMs: delivery.sentAfterMs }]
        : [
            { status: 'sent', errorCode: null, afterMs: delivery.sentAfterMs },
            failure === null
              ? { status: 'delivered', errorCode: null, afterMs: delivery.deliveredAfterMs }
              : { status: 'undelivered', errorCode: failure.errorCode, afterMs: delivery.deliveredAfterMs },
          ];
    const held: typeof steps = [];
    for (const step of steps) {
      await sleep(step.afterMs, undefined, { signal });
      changeStatus(message.sid, step.status, step.errorCode);
      if (delivery.outOfOrder) held.unshift(step);
      else await sendCallback(message, step.status, step.errorCode);
    }
    for (const step of held) await sendCallback(message, step.status, step.errorCode);
  }

  function createMessage(params: FormParams, receivedAt: Timestamp): Answer {
    const to = first(params, 'To');
    const from = first(params, 'From');
    const body = first(params, 'Body') ?? '';
    const mediaUrls = all(params, 'MediaUrl');
    if (to === undefined || to.length === 0) return errorAnswer(400, 21604);
    if (!E164_SHAPE.test(to)) return errorAnswer(400, 21211);
    if (from === undefined || from.length === 0) return errorAnswer(400, 21603);
    if (body.length === 0 && mediaUrls.length === 0) return errorAnswer(400, 21602);
    if (body.length > MAX_SMS_BODY_CHARS) {
      return errorAnswer(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    }
    const rejection = faults.rejectionCodeFor(to);
    if (rejection !== null) return errorAnswer(400, rejection);

    const statusCallback = first(params, 'StatusCallback');
    const message: SandboxMessage = {
      sid: newSid(mediaUrls.length > 0 ? 'MM' : 'SM'),
      accountSid,
      to,
      from,
      body,
      mediaUrls,
      statusCallback: statusCallback === undefined || statusCallback.length === 0 ? null : statusCallback,
      status: 'queued',
      errorCode: null,
      numSegments: countSegments(body),
      dateCreated: receivedAt.date,
      dateUpdated: receivedAt.date,
      dateSent: null,
      receivedAt,
    };
    store.trigger.messageAccepted({ message });
    track(deliver(message).catch(() => undefined));
    return { status: 201, body: toMessageResource(message), code: null, messageSid: message.sid };
  }

  // GET Messages.json: one page (the only one) of the recorded messages matching To, From and
  // DateSent>= (a queued message has no date_sent yet; its creation date stands in), newest first,
  // in Twilio's list-page shape, which the SDK's Page reads (the array under the one non-meta key).
  function listMessages(query: URLSearchParams): Answer {
    const to = query.get('To');
    const from = query.get('From');
    const after = query.get('DateSent>');
    const afterMs = after === null ? null : Date.parse(after);
    if (afterMs !== null && Number.isNaN(afterMs)) return errorAnswer(400, 20001, 'Invalid DateSent>');
    const requestedSize = Number(query.get('PageSize') ?? LIST_PAGE_SIZE_DEFAULT);
    const pageSize =
      Number.isInteger(requestedSize) && requestedSize > 0
        ? Math.min(requestedSize, LIST_PAGE_SIZE_MAX)
        : LIST_PAGE_SIZE_DEFAULT;
    const matches = store
      .getSnapshot()
      .context.messages.filter(
        (m) =>
          m.accountSid === accountSid &&
          (to === null || m.to === to) &&
          (from === null || m.from === from) &&
          (afterMs === null || (m.dateSent ?? m.dateCreated).getTime() >= afterMs),
      )
      .reverse()
      .slice(0, pageSize);
    const uri = `/${API_VERSION}/Accounts/${accountSid}/Messages.json?${query}`;
    const firstPage = new URLSearchParams(query);
    firstPage.set('Page', '0');
    firstPage.set('PageSize', String(pageSize));
    return {
      status: 200,
      body: {
        messages: matches.map(toMessageResource),
        first_page_uri: `/${API_VERSION}/Accounts/${accountSid}/Messages.json?${firstPage}`,
        next_page_uri: null,
        previous_page_uri: null,
        page: 0,
        page_size: pageSize,
        uri,
        start: 0,
        end: Math.max(matches.length - 1, 0),
      },
      code: null,
      messageSid: null,
    };
  }

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    params: FormParams,
    receivedAt: Timestamp,
  ): Answer {
    const create = CREATE_PATH.exec(path);
    const read = FETCH_PATH.exec(path);
    const pathAccount = create?.[1] ?? read?.[1];
    if (pathAccount === undefined) return errorAnswer(404, 20404);
    if (pathAccount !== accountSid) return errorAnswer(404, 20404);
    if (create !== null) {
      if (method === 'GET') return listMessages(query);
      if (method !== 'POST') return errorAnswer(405, 20004, 'Method not allowed');
      return createMessage(params, receivedAt);
    }
    if (method !== 'GET') return errorAnswer(405, 20004, 'Method not allowed');
    const sid = read?.[2];
    const message = store.getSnapshot().context.messages.findLast((m) => m.sid === sid);
    if (message === undefined) return errorAnswer(404, 20404);
    return { status: 200, body: toMessageResource(message), code: null, messageSid: message.sid };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = now();
    const id = nextRequestId++;
    const method = req.method ?? 'GET';
    const requestUrl = new URL(req.url ?? '/', 'http://sandbox');
    const path = requestUrl.pathname;
    const raw = await readBody(req, MAX_BODY_BYTES);
    const params = raw === null ? (Object.create(null) as FormParams) : parseForm(raw);
    const authenticated = credentialsMatch(req.headers.authorization, expectedCredentials);
    store.trigger.requestReceived({
      request: { id, method, path, params, authenticated, receivedAt, response: null },
    });

    let answer: Answer;
    let delayMs = 0;
    if (raw === null) {
      answer = errorAnswer(413, 20413, 'Request entity too large');
    } else if (!authenticated) {
      answer = {
        ...errorAnswer(401, 20003),
        headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
      };
    } else {
      delayMs = faults.takeDelayMs();
      const fault = faults.takeFailure();
      answer =
        fault === null
          ? route(method, path, requestUrl.searchParams, params, receivedAt)
          : errorAnswer(fault.status, fault.code ?? defaultCodeForStatus(fault.status), fault.message);
    }

    if (delayMs > 0) await sleep(delayMs, undefined, { signal: shutdown.signal });
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'twilio-request-id': newSid('RQ'),
      ...answer.headers,
    });
    res.end(payload);
    store.trigger.requestAnswered({
      id,
      response: {
        status: answer.status,
        code: answer.code,
        messageSid: answer.messageSid,
        answeredAt: now(),
      },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (shutdown.signal.aborted || res.headersSent) {
        res.destroy();
        return;
      }
      logger?.error({ err }, 'twilio sandbox: request failed');
      const payload = JSON.stringify(twilioErrorBody(500, 20500));
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(payload);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const context = () => store.getSnapshot().context;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    store,
    messages: () => [...context().messages],
    message: (sid) => context().messages.findLast((m) => m.sid === sid),
    requests: () => [...context().requests],
    callbacks: () => [...context().callbacks],
    waitForMessages: (count, timeoutMs = 5000) =>
      waitForTraffic(
        store,
        (ctx) => (ctx.messages.length >= count ? [...ctx.messages] : null),
        timeoutMs,
        `${count} message(s)`,
      ),
    waitForCallbacks: (count, timeoutMs = 5000) =>
      waitForTraffic(
        store,
        (ctx) => (ctx.callbacks.length >= count ? [...ctx.callbacks] : null),
        timeoutMs,
        `${count} status callback(s)`,
      ),
    failNext: (count, fault) => faults.failNext(count, fault),
    delayNext: (count, ms) => faults.delayNext(count, ms),
    rejectTo: (number, code) => faults.rejectTo(number, code),
    undeliverableTo: (number, failure) => faults.undeliverableTo(number, failure),
    dropNextCallbacks: (count) => faults.dropNextCallbacks(count),
    clearFaults: () => faults.clear(),
    reset: () => {
      faults.clear();
      store.trigger.reset();
    },
    close: async () => {
      if (shutdown.signal.aborted) return;
      shutdown.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.allSettled([...background]);
      await closed;
    },
  };
}
