import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../observability/logger.ts';
import { readBody } from '../../sandbox-body.ts';
import { listenOnLoopback } from '../../sandbox-server.ts';
import { type Answer, stripeError } from './errors.ts';
import {
  createWebhookSender,
  type EmittedEvent,
  eventObject,
  type InvoiceEventType,
  invoiceObject,
  type SubscriptionEventType,
} from './events.ts';
import { newStripeId, parseStripeForm } from './form.ts';
import { hostedPage } from './hosted-pages.ts';
import {
  createStripeResources,
  nowS,
  type SandboxSubscriptionInput,
  type StripeObject,
} from './resources.ts';

export type { EmittedEvent, InvoiceEventType, SubscriptionEventType } from './events.ts';
export type { SandboxSubscriptionInput, StripeObject } from './resources.ts';

// A stand-in for the slice of Stripe's REST API that NMC uses (customers with search, prices by
// lookup key, Checkout and billing-portal sessions, subscriptions created, changed and canceled), close enough on the wire that the real
// `stripe` SDK talks to it unchanged through createStripeClient's apiBaseUrl. It also plays Stripe's
// side of webhooks: test and demo helpers build events shaped like Stripe's and post them, signed
// with the webhook secret exactly as Stripe signs them (Stripe-Signature: t=…,v1=…).
//
// What must stay true:
// - It listens on 127.0.0.1 only: it is a test double, never a service.
// - Requests need `Authorization: Bearer <secret key>`; POSTs honour Idempotency-Key as Stripe does
//   (the same key answers the first response again).
// - Emitting an older event (smaller `created`) does not change the sandbox's own copy of the
//   subscription: GET /v1/subscriptions/:id always answers the newest state, as Stripe would.

// This file is the HTTP side (authentication, idempotency, the request log) and the composition;
// the objects live in resources.ts, the events in events.ts, the hosted pages in hosted-pages.ts.

export interface StripeSandboxOptions {
  secretKey: string;
  webhookSecret: string;
  /** Where events are posted unless a call names another URL (NMC's /webhooks/stripe). */
  webhookUrl?: string;
  /** Default 0: any free port. */
  port?: number;
  logger?: Logger;
}

export interface StripeSandbox {
  /** Base URL to give createStripeClient as apiBaseUrl, e.g. http://127.0.0.1:40124 */
  readonly url: string;
  customers(): StripeObject[];
  checkoutSessions(): StripeObject[];
  portalSessions(): StripeObject[];
  subscription(id: string): StripeObject | undefined;
  subscriptions(): StripeObject[];
  /** The next `count` authenticated API requests answer this error instead (nothing is done). */
  failNext(count: number, fault: { status: number; message?: string }): void;
  /** The next `count` authenticated API requests are processed, but answered `ms` later. */
  delayNext(count: number, ms: number): void;
  /** The next request matching (method, path) answers this error (nothing is done). */
  failOn(match: { method: string; path: RegExp }, fault: { status: number; message?: string }): void;
  /** The next request matching (method, path) is processed, but answered `ms` later. */
  delayOn(match: { method: string; path: RegExp }, ms: number): void;
  /** Every API request: method, path and the status answered. */
  requests(): Array<{ method: string; path: string; status: number }>;
  /** Stores a subscription as Stripe would hold it after a checkout; no event is sent. */
  putSubscription(input: SandboxSubscriptionInput & { customer: string }): StripeObject;
  emitSubscriptionEvent(input: {
    type: SubscriptionEventType;
    customer: string;
    subscription: SandboxSubscriptionInput & { id: string };
    /** Unix seconds; default now. */
    eventCreated?: number;
    eventId?: string;
    url?: string;
  }): Promise<EmittedEvent>;
  emitInvoiceEvent(input: {
    type: InvoiceEventType;
    customer: string;
    subscription: string;
    eventCreated?: number;
    eventId?: string;
    url?: string;
  }): Promise<EmittedEvent>;
  /** Posts any event object (built by the caller), signed. */
  emitEvent(event: StripeObject, url?: string): Promise<EmittedEvent>;
  /** Posts a payload again (a duplicate delivery), freshly signed. */
  deliver(payload: string, url?: string): Promise<{ status: number; body: string }>;
  /**
   * Pays an open Checkout Session: creates its subscription and sends checkout.session.completed,
   * then customer.subscription.created (whose delivery it answers).
   */
  completeCheckout(sessionId: string, options?: { status?: string }): Promise<EmittedEvent>;
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  const { secretKey, webhookSecret, logger } = options;
  if (!secretKey.startsWith('sk_') || !webhookSecret.startsWith('whsec_')) {
    throw new TypeError('startStripeSandbox: secretKey must start with sk_ and webhookSecret with whsec_');
  }
  const expectedKey = Buffer.from(secretKey);
  let baseUrl = '';
  const resources = createStripeResources(() => baseUrl);
  const { deliver, emitEvent } = createWebhookSender({
    webhookSecret,
    ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
    ...(logger === undefined ? {} : { logger }),
  });
  const idempotent = new Map<string, Answer>();
  let failures: Array<{ status: number; message?: string }> = [];
  let delays: number[] = [];
  let targeted: Array<{
    match: { method: string; path: RegExp };
    fault: { status: number; message?: string } | null;
    delayMs: number;
  }> = [];
  const takeTargeted = (method: string, path: string) => {
    const index = targeted.findIndex((t) => t.match.method === method && t.match.path.test(path));
    return index < 0 ? null : (targeted.splice(index, 1)[0] ?? null);
  };
  let requests: Array<{ method: string; path: string; status: number }> = [];

  async function completeCheckout(sessionId: string, opts: { status?: string } = {}) {
    const { subscription, created } = resources.completeCheckout(sessionId, opts);
    // Stripe sends both; the session's event first here (in production their order is not promised).
    const session = resources.sessions.get(sessionId);
    if (session) await emitEvent(eventObject('checkout.session.completed', session, created));
    return emitEvent(eventObject('customer.subscription.created', subscription, created));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (
      !path.startsWith('/v1/') &&
      (await hostedPage(method, path, res, { sessions: resources.sessions, completeCheckout }))
    )
      return;

    let answer: Answer;
    let aimed: { fault: { status: number; message?: string } | null; delayMs: number } | null = null;
    const idempotencyHeader = req.headers['idempotency-key'];
    const idempotencyKey =
      method === 'POST' && typeof idempotencyHeader === 'string' ? `${path} ${idempotencyHeader}` : null;
    const replayed = idempotencyKey === null ? undefined : idempotent.get(idempotencyKey);
    if (raw === null) {
      answer = stripeError(413, 'Request entity too large');
    } else if (!bearerMatches(req.headers.authorization, expectedKey)) {
      answer = stripeError(401, 'Invalid API Key provided.');
    } else if (replayed) {
      answer = replayed;
    } else {
      aimed = takeTargeted(method, path);
      const fault = aimed?.fault ?? failures.shift();
      answer = fault
        ? stripeError(
            fault.status,
            fault.message ?? (fault.status === 429 ? 'Too many requests' : 'An unknown error occurred'),
            fault.status === 429 ? { code: 'rate_limit' } : {},
          )
        : resources.route(method, path, parseStripeForm(raw), parseStripeForm(url.search.slice(1)));
      if (idempotencyKey !== null && answer.status < 500 && answer.status !== 429)
        idempotent.set(idempotencyKey, answer);
      // The event of a change, as Stripe sends it after answering (never again for a replay).
      if (answer.emits) {
        const { type, object } = answer.emits;
        void emitEvent(eventObject(type, object, nowS())).catch(() => undefined);
      }
    }
    // A delayed answer is still processed: the change exists even if the client gave up waiting.
    const delayMs = aimed?.delayMs || (delays.shift() ?? 0);
    if (delayMs > 0) await sleep(delayMs);
    requests.push({ method, path, status: answer.status });
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'request-id': newStripeId('req'),
      ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
    });
    res.end(payload);
  }

  const server = await listenOnLoopback({
    ...(options.port === undefined ? {} : { port: options.port }),
    handle,
    onFailure: (err, res) => {
      logger?.error({ err }, 'stripe sandbox: request failed');
      const { status, body } = stripeError(500, 'An unknown error occurred');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    },
  });
  baseUrl = server.url;

  return {
    url: baseUrl,
    customers: () => [...resources.customers.values()],
    checkoutSessions: () => [...resources.sessions.values()],
    portalSessions: () => [...resources.portal.values()],
    subscription: (id) => resources.subscriptions.get(id)?.object,
    subscriptions: () => [...resources.subscriptions.values()].map((s) => s.object),
    failNext: (count, fault) => {
      for (let i = 0; i < count; i += 1) failures.push(fault);
    },
    delayNext: (count, ms) => {
      for (let i = 0; i < count; i += 1) delays.push(ms);
    },
    failOn: (match, fault) => {
      targeted.push({ match, fault, delayMs: 0 });
    },
    delayOn: (match, ms) => {
      targeted.push({ match, fault: null, delayMs: ms });
    },
    requests: () => [...requests],
    putSubscription: (input) => {
      const object = resources.subscriptionObject(input);
      resources.remember(object, nowS());
      return object;
    },
    emitSubscriptionEvent: async ({ type, customer, subscription, eventCreated, eventId, url }) => {
      const created = eventCreated ?? nowS();
      const status = type === 'customer.subscription.deleted' ? 'canceled' : subscription.status;
      const object = resources.subscriptionObject({ ...subscription, status, customer });
      resources.remember(object, created);
      return emitEvent(eventObject(type, object, created, eventId), url);
    },
    emitInvoiceEvent: async ({ type, customer, subscription, eventCreated, eventId, url }) => {
      const created = eventCreated ?? nowS();
      const paid = type === 'invoice.paid';
      const invoice = invoiceObject({ paid, customer, subscription, created });
      const known = resources.subscriptions.get(subscription);
      if (known) {
        const current = String(known.object.status);
        if (!paid && ['active', 'trialing'].includes(current)) {
          resources.remember({ ...known.object, status: 'past_due' }, created);
        }
        if (paid && current === 'past_due')
          resources.remember({ ...known.object, status: 'active' }, created);
      }
      return emitEvent(eventObject(type, invoice, created, eventId), url);
    },
    emitEvent,
    deliver,
    completeCheckout,
    reset: () => {
      resources.reset();
      idempotent.clear();
      failures = [];
      delays = [];
      targeted = [];
      requests = [];
    },
    close: () => server.close(),
  };
}
