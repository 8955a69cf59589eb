import { timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../observability/logger.ts';
import { readBody } from '../../sandbox-body.ts';
import { listenOnLoopback } from '../../sandbox-server.ts';
import { createA2pApi } from './a2p-api.ts';
import {
  type AccountResources,
  createAccountResources,
  type SandboxBrand,
  type SandboxCampaign,
  type SandboxNumber,
  type SandboxService,
} from './account-resources.ts';
import { createCarrier, type SandboxDeliveryOptions } from './carrier.ts';
import { createFaultPlan, type DeliveryFailure, type HttpFault, type RequestMatch } from './faults.ts';
import type { SandboxMessage } from './message-resource.ts';
import { type Answer, createMessagesApi, errorAnswer } from './messages-api.ts';
import { createNumbersApi } from './numbers-api.ts';
import { defaultCodeForStatus, twilioErrorBody } from './rest-error.ts';
import { newSid } from './sids.ts';
import { now } from './timestamp.ts';
import {
  createTrafficStore,
  type FormParams,
  type RecordedCallback,
  type RecordedRequest,
  type TrafficStore,
  waitForTraffic,
} from './traffic-store.ts';

export type { SandboxBrand, SandboxCampaign, SandboxNumber, SandboxService } from './account-resources.ts';
export type { SandboxDeliveryOptions } from './carrier.ts';
export type { HttpFault, RequestMatch } from './faults.ts';

// A stand-in for the slice of Twilio's REST API that NMC uses (send a message, fetch it back, list
// messages by To/From/DateSent> to check whether an ambiguous send went through; search, buy,
// re-point and release phone numbers; register A2P 10DLC brands, messaging services and
// campaigns), close
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

// This file is the HTTP side (authentication, scripted faults on the answer, the traffic record)
// and the composition: the Messages resource is messages-api.ts, the carrier carrier.ts, the faults
// faults.ts, the recorded traffic traffic-store.ts; phone numbers numbers-api.ts, A2P registration
// a2p-api.ts, both over the account's resources in account-resources.ts.

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
  /** The next request matching `match` answers this error instead (nothing is done). */
  failOn(match: RequestMatch, fault: HttpFault): void;
  /** The next request matching `match` is processed, but answered `ms` later (a timeout after acting). */
  delayOn(match: RequestMatch, ms: number): void;
  /** Every create to `number` is refused with 400 and `code` (21610 opted out, 21211 invalid, 21614 not mobile). */
  rejectTo(number: string, code: number): void;
  /** Messages to `number` are accepted, then end `undelivered`/`failed` with the given ErrorCode. */
  undeliverableTo(number: string, failure: DeliveryFailure): void;
  /** The next `count` status callbacks are not sent (recorded as dropped); statuses still move. */
  dropNextCallbacks(count: number): void;
  /** The account's numbers, brands, services and campaigns (a test may change them to make drift). */
  readonly account: AccountResources;
  numbers(): SandboxNumber[];
  brands(): SandboxBrand[];
  services(): SandboxService[];
  campaigns(): SandboxCampaign[];
  /** The next `count` purchases fail with 21422: someone else bought the number a moment earlier. */
  snatchNextNumbers(count: number): void;
  /** The next brand registration is reviewed FAILED with this reason. */
  rejectNextBrand(reason: string): void;
  /** The next campaign is reviewed FAILED with this reason. */
  rejectNextCampaign(reason: string): void;
  /** How long brand and campaign reviews take (default 0: decided by the first read after creation). */
  setReviewDelay(ms: number): void;
  clearFaults(): void;
  /** Forget all faults, recorded traffic and the account's resources. */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

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

  const carrier = createCarrier({
    authToken,
    delivery: options.delivery,
    callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
    store,
    faults,
    shutdown: shutdown.signal,
    logger,
  });
  const account = createAccountResources();
  const numbersRoute = createNumbersApi({ accountSid, resources: account });
  const a2pRoute = createA2pApi({ accountSid, resources: account });
  const messagesRoute = createMessagesApi({
    accountSid,
    store,
    faults,
    accepted: (message: SandboxMessage) => track(carrier.deliver(message).catch(() => undefined)),
  });

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
      const aimed = faults.takeTargeted(method, path);
      delayMs = aimed.delayMs || faults.takeDelayMs();
      const fault = aimed.failure ?? faults.takeFailure();
      answer =
        fault === null
          ? (numbersRoute(method, path, requestUrl.searchParams, params) ??
            a2pRoute(method, path, params) ??
            messagesRoute(method, path, requestUrl.searchParams, params, receivedAt))
          : errorAnswer(fault.status, fault.code ?? defaultCodeForStatus(fault.status), fault.message);
    }

    if (delayMs > 0) await sleep(delayMs, undefined, { signal: shutdown.signal });
    // A DELETE answers 204 with no body, as Twilio does.
    const payload = answer.status === 204 ? '' : JSON.stringify(answer.body);
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

  const server = await listenOnLoopback({
    ...(options.port === undefined ? {} : { port: options.port }),
    handle,
    onFailure: (err, res) => {
      if (shutdown.signal.aborted) {
        res.destroy();
        return;
      }
      logger?.error({ err }, 'twilio sandbox: request failed');
      const payload = JSON.stringify(twilioErrorBody(500, 20500));
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(payload);
    },
  });
  const context = () => store.getSnapshot().context;

  return {
    url: server.url,
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
    failOn: (match, fault) => faults.failOn(match, fault),
    delayOn: (match, ms) => faults.delayOn(match, ms),
    rejectTo: (number, code) => faults.rejectTo(number, code),
    undeliverableTo: (number, failure) => faults.undeliverableTo(number, failure),
    dropNextCallbacks: (count) => faults.dropNextCallbacks(count),
    account,
    numbers: () => [...account.numbers.values()],
    brands: () => [...account.brands.values()],
    services: () => [...account.services.values()],
    campaigns: () => [...account.campaigns.values()],
    snatchNextNumbers: (count) => {
      account.scripted.snatchNext += count;
    },
    rejectNextBrand: (reason) => {
      account.scripted.brandRejections.push(reason);
    },
    rejectNextCampaign: (reason) => {
      account.scripted.campaignRejections.push(reason);
    },
    setReviewDelay: (ms) => {
      account.scripted.reviewDelayMs = ms;
    },
    clearFaults: () => {
      faults.clear();
      account.scripted.snatchNext = 0;
      account.scripted.brandRejections = [];
      account.scripted.campaignRejections = [];
    },
    reset: () => {
      faults.clear();
      store.trigger.reset();
      account.reset();
    },
    close: async () => {
      if (shutdown.signal.aborted) return;
      shutdown.abort();
      const closed = server.close();
      await Promise.allSettled([...background]);
      await closed;
    },
  };
}
