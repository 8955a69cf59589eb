import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { Logger } from '../../../observability/logger.ts';
import { readBody } from '../../sandbox-body.ts';
import {
  type FormObject,
  listOf,
  metadataOf,
  newStripeId,
  objectOf,
  parseStripeForm,
  textOf,
} from './form.ts';

// A stand-in for the slice of Stripe's REST API that NMC uses (customers, prices by lookup key,
// Checkout and billing-portal sessions, subscriptions), close enough on the wire that the real
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

export type SubscriptionEventType =
  | 'customer.subscription.created'
  | 'customer.subscription.updated'
  | 'customer.subscription.deleted';
export type InvoiceEventType = 'invoice.paid' | 'invoice.payment_failed';

export type SandboxSubscriptionInput = {
  id?: string;
  status: string;
  plan: string;
  /** Unix seconds; default now. */
  created?: number;
  /** Unix seconds; default created + 30 days. */
  current_period_end?: number;
};

export type StripeObject = Record<string, unknown> & { id: string; object: string };

export type EmittedEvent = {
  event: StripeObject;
  payload: string;
  /** The webhook's answer; status 0 when it could not be reached. */
  status: number;
  body: string;
};

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
  /** Pays an open Checkout Session: creates its subscription and sends customer.subscription.created. */
  completeCheckout(sessionId: string, options?: { status?: string }): Promise<EmittedEvent>;
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;
const DAY_S = 24 * 60 * 60;
const PLAN_PRICES: Record<string, number> = { starter: 4900, pro: 9900 };

const nowS = () => Math.floor(Date.now() / 1000);

function stripeError(status: number, message: string, extra: Record<string, unknown> = {}) {
  const type =
    status === 401 ? 'invalid_request_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return { status, body: { error: { type, message, ...extra } } };
}

function missing(kind: string, id: string, param = 'id') {
  return stripeError(404, `No such ${kind}: '${id}'`, { code: 'resource_missing', param });
}

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  const { secretKey, webhookSecret, logger } = options;
  if (!secretKey.startsWith('sk_') || !webhookSecret.startsWith('whsec_')) {
    throw new TypeError('startStripeSandbox: secretKey must start with sk_ and webhookSecret with whsec_');
  }
  const expectedKey = Buffer.from(secretKey);
  const customers = new Map<string, StripeObject>();
  const sessions = new Map<string, StripeObject>();
  const portal = new Map<string, StripeObject>();
  // What a Checkout Session's subscription will carry (subscription_data), kept beside the session.
  const sessionSubscriptions = new Map<string, { metadata: Record<string, string>; plan?: string }>();
  const subscriptions = new Map<string, { object: StripeObject; lastEventCreated: number }>();
  const idempotent = new Map<string, { status: number; body: unknown }>();
  let requests: Array<{ method: string; path: string; status: number }> = [];
  const prices = new Map<string, StripeObject>(
    Object.entries(PLAN_PRICES).map(([plan, amount]) => {
      const id = `price_sandbox_${plan}`;
      return [
        id,
        {
          id,
          object: 'price',
          active: true,
          currency: 'usd',
          unit_amount: amount,
          lookup_key: `nmc_${plan}`,
          recurring: { interval: 'month', interval_count: 1 },
          type: 'recurring',
          product: `prod_sandbox_${plan}`,
          metadata: { plan },
          created: 1_700_000_000,
          livemode: false,
        },
      ];
    }),
  );
  let baseUrl = '';

  function priceForPlan(plan: string): StripeObject {
    const known = prices.get(`price_sandbox_${plan}`);
    if (known) return known;
    return {
      id: `price_sandbox_${plan.replace(/\W/g, '_')}`,
      object: 'price',
      active: true,
      currency: 'usd',
      unit_amount: 0,
      lookup_key: null,
      recurring: { interval: 'month', interval_count: 1 },
      type: 'recurring',
      metadata: {},
      livemode: false,
    };
  }

  function subscriptionObject(input: SandboxSubscriptionInput & { customer: string }): StripeObject {
    const id = input.id ?? newStripeId('sub');
    const created = input.created ?? nowS();
    const periodEnd = input.current_period_end ?? created + 30 * DAY_S;
    const ended = input.status === 'canceled' || input.status === 'incomplete_expired';
    return {
      id,
      object: 'subscription',
      customer: input.customer,
      status: input.status,
      created,
      start_date: created,
      cancel_at_period_end: false,
      canceled_at: ended ? periodEnd : null,
      ended_at: ended ? periodEnd : null,
      collection_method: 'charge_automatically',
      currency: 'usd',
      livemode: false,
      metadata: { plan: input.plan },
      items: {
        object: 'list',
        data: [
          {
            id: `si_${id.slice(4)}`,
            object: 'subscription_item',
            created,
            current_period_start: periodEnd - 30 * DAY_S,
            current_period_end: periodEnd,
            quantity: 1,
            subscription: id,
            price: priceForPlan(input.plan),
            metadata: {},
          },
        ],
        has_more: false,
        url: `/v1/subscription_items?subscription=${id}`,
      },
    };
  }

  function remember(object: StripeObject, eventCreated: number): void {
    const known = subscriptions.get(object.id);
    if (known && known.lastEventCreated > eventCreated) return;
    subscriptions.set(object.id, { object, lastEventCreated: eventCreated });
  }

  function eventObject(type: string, object: StripeObject, created: number, id?: string): StripeObject {
    return {
      id: id ?? newStripeId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created,
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object },
    };
  }

  async function deliver(payload: string, url?: string): Promise<{ status: number; body: string }> {
    const target = url ?? options.webhookUrl;
    if (!target) throw new Error('stripe sandbox: no webhook URL to deliver to');
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': signature,
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: await response.text() };
    } catch (err) {
      logger?.warn({ reason: (err as Error).message }, 'stripe sandbox: webhook delivery failed');
      return { status: 0, body: '' };
    }
  }

  async function emitEvent(event: StripeObject, url?: string): Promise<EmittedEvent> {
    const payload = JSON.stringify(event, null, 2);
    return { event, payload, ...(await deliver(payload, url)) };
  }

  async function completeCheckout(sessionId: string, opts: { status?: string } = {}) {
    const session = sessions.get(sessionId);
    if (session?.status !== 'open') throw new Error(`stripe sandbox: no open session ${sessionId}`);
    const extra = sessionSubscriptions.get(sessionId);
    const metadata = extra?.metadata ?? {};
    const plan = metadata.plan ?? extra?.plan ?? 'starter';
    const subscription = subscriptionObject({
      customer: String(session.customer),
      status: opts.status ?? 'active',
      plan,
    });
    subscription.metadata = { ...metadata, plan };
    const created = nowS();
    remember(subscription, created);
    Object.assign(session, { status: 'complete', payment_status: 'paid', subscription: subscription.id });
    return emitEvent(eventObject('customer.subscription.created', subscription, created));
  }

  type Answer = { status: number; body: unknown };

  function createCustomer(params: FormObject): Answer {
    const customer: StripeObject = {
      id: newStripeId('cus'),
      object: 'customer',
      created: nowS(),
      email: textOf(params.email) ?? null,
      name: textOf(params.name) ?? null,
      description: textOf(params.description) ?? null,
      metadata: metadataOf(params.metadata),
      livemode: false,
    };
    customers.set(customer.id, customer);
    return { status: 200, body: customer };
  }

  function listPrices(query: FormObject): Answer {
    const keys = listOf(query.lookup_keys).filter((k): k is string => typeof k === 'string');
    const data = [...prices.values()].filter(
      (p) => keys.length === 0 || (typeof p.lookup_key === 'string' && keys.includes(p.lookup_key)),
    );
    return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/prices' } };
  }

  function createCheckoutSession(params: FormObject): Answer {
    const customerId = textOf(params.customer);
    if (customerId !== undefined && !customers.has(customerId))
      return missing('customer', customerId, 'customer');
    const mode = textOf(params.mode);
    if (mode !== 'subscription' && mode !== 'payment' && mode !== 'setup') {
      return stripeError(400, 'Missing required param: mode.', { code: 'parameter_missing', param: 'mode' });
    }
    const items = listOf(params.line_items).map(objectOf);
    if (mode !== 'setup' && items.length === 0) {
      return stripeError(400, 'Missing required param: line_items.', {
        code: 'parameter_missing',
        param: 'line_items',
      });
    }
    for (const item of items) {
      const price = textOf(item?.price);
      if (price === undefined || !prices.has(price))
        return missing('price', price ?? '', 'line_items[0][price]');
    }
    const id = newStripeId('cs_test');
    const firstPrice = prices.get(textOf(items[0]?.price) ?? '');
    const session: StripeObject = {
      id,
      object: 'checkout.session',
      url: `${baseUrl}/c/pay/${id}`,
      mode,
      customer: customerId ?? null,
      client_reference_id: textOf(params.client_reference_id) ?? null,
      success_url: textOf(params.success_url) ?? null,
      cancel_url: textOf(params.cancel_url) ?? null,
      metadata: metadataOf(params.metadata),
      status: 'open',
      payment_status: 'unpaid',
      subscription: null,
      created: nowS(),
      expires_at: nowS() + DAY_S,
      livemode: false,
    };
    sessions.set(id, session);
    const plan = (firstPrice?.metadata as Record<string, string> | undefined)?.plan;
    sessionSubscriptions.set(id, {
      metadata: metadataOf(objectOf(params.subscription_data)?.metadata),
      ...(plan === undefined ? {} : { plan }),
    });
    return { status: 200, body: session };
  }

  function createPortalSession(params: FormObject): Answer {
    const customerId = textOf(params.customer);
    if (customerId === undefined) {
      return stripeError(400, 'Missing required param: customer.', {
        code: 'parameter_missing',
        param: 'customer',
      });
    }
    if (!customers.has(customerId)) return missing('customer', customerId, 'customer');
    const id = newStripeId('bps');
    const session: StripeObject = {
      id,
      object: 'billing_portal.session',
      url: `${baseUrl}/p/session/${id}`,
      customer: customerId,
      return_url: textOf(params.return_url) ?? null,
      created: nowS(),
      livemode: false,
    };
    portal.set(id, session);
    return { status: 200, body: session };
  }

  function route(method: string, path: string, params: FormObject, query: FormObject): Answer {
    if (method === 'POST' && path === '/v1/customers') return createCustomer(params);
    if (method === 'GET' && path === '/v1/prices') return listPrices(query);
    if (method === 'POST' && path === '/v1/checkout/sessions') return createCheckoutSession(params);
    if (method === 'POST' && path === '/v1/billing_portal/sessions') return createPortalSession(params);
    const customer = /^\/v1\/customers\/([^/]+)$/.exec(path)?.[1];
    if (method === 'GET' && customer !== undefined) {
      const found = customers.get(customer);
      return found ? { status: 200, body: found } : missing('customer', customer);
    }
    const subscription = /^\/v1\/subscriptions\/([^/]+)$/.exec(path)?.[1];
    if (method === 'GET' && subscription !== undefined) {
      const found = subscriptions.get(subscription);
      return found ? { status: 200, body: found.object } : missing('subscription', subscription);
    }
    return stripeError(404, `Unrecognized request URL (${method}: ${path}).`);
  }

  function page(res: ServerResponse, status: number, html: string): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>Stripe sandbox</title>${html}`);
  }

  // The hosted pages a person opens from the URLs above, for the local demo.
  async function hostedPage(method: string, path: string, res: ServerResponse): Promise<boolean> {
    const pay = /^\/c\/pay\/([^/]+)$/.exec(path)?.[1];
    if (pay !== undefined) {
      const session = sessions.get(pay);
      if (!session) {
        page(res, 404, '<p>No such checkout session.</p>');
      } else if (method === 'POST' && session.status === 'open') {
        await completeCheckout(pay);
        const next = typeof session.success_url === 'string' ? session.success_url : null;
        page(res, 200, `<p>Paid (sandbox).</p>${next ? `<a href="${escapeHtml(next)}">Continue</a>` : ''}`);
      } else {
        page(
          res,
          200,
          session.status === 'open'
            ? `<h1>Sandbox checkout</h1><form method="post"><button>Pay (no card needed)</button></form>`
            : '<p>This checkout session is complete.</p>',
        );
      }
      return true;
    }
    if (/^\/p\/session\/[^/]+$/.test(path)) {
      page(res, 200, '<h1>Sandbox billing portal</h1><p>Nothing to manage here.</p>');
      return true;
    }
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (!path.startsWith('/v1/') && (await hostedPage(method, path, res))) return;

    let answer: Answer;
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
      answer = route(method, path, parseStripeForm(raw), parseStripeForm(url.search.slice(1)));
      if (idempotencyKey !== null && answer.status < 500) idempotent.set(idempotencyKey, answer);
    }
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

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      logger?.error({ err }, 'stripe sandbox: request failed');
      const { status, body } = stripeError(500, 'An unknown error occurred');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
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
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    customers: () => [...customers.values()],
    checkoutSessions: () => [...sessions.values()],
    portalSessions: () => [...portal.values()],
    subscription: (id) => subscriptions.get(id)?.object,
    requests: () => [...requests],
    putSubscription: (input) => {
      const object = subscriptionObject(input);
      remember(object, nowS());
      return object;
    },
    emitSubscriptionEvent: async ({ type, customer, subscription, eventCreated, eventId, url }) => {
      const created = eventCreated ?? nowS();
      const status = type === 'customer.subscription.deleted' ? 'canceled' : subscription.status;
      const object = subscriptionObject({ ...subscription, status, customer });
      remember(object, created);
      return emitEvent(eventObject(type, object, created, eventId), url);
    },
    emitInvoiceEvent: async ({ type, customer, subscription, eventCreated, eventId, url }) => {
      const created = eventCreated ?? nowS();
      const paid = type === 'invoice.paid';
      const invoice: StripeObject = {
        id: newStripeId('in'),
        object: 'invoice',
        customer,
        status: paid ? 'paid' : 'open',
        attempted: true,
        attempt_count: 1,
        amount_due: 4900,
        amount_paid: paid ? 4900 : 0,
        currency: 'usd',
        created,
        billing_reason: 'subscription_cycle',
        parent: {
          type: 'subscription_details',
          quote_details: null,
          subscription_details: { subscription, metadata: {} },
        },
        livemode: false,
      };
      const known = subscriptions.get(subscription);
      if (known) {
        const current = String(known.object.status);
        if (!paid && ['active', 'trialing'].includes(current)) {
          remember({ ...known.object, status: 'past_due' }, created);
        }
        if (paid && current === 'past_due') remember({ ...known.object, status: 'active' }, created);
      }
      return emitEvent(eventObject(type, invoice, created, eventId), url);
    },
    emitEvent,
    deliver,
    completeCheckout,
    reset: () => {
      customers.clear();
      sessions.clear();
      sessionSubscriptions.clear();
      portal.clear();
      subscriptions.clear();
      idempotent.clear();
      requests = [];
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
