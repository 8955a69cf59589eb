import { type Answer, missing, stripeError } from './errors.ts';
import { type FormObject, listOf, metadataOf, newStripeId, objectOf, textOf } from './form.ts';

// The sandbox's Stripe objects (customers, prices, Checkout and billing-portal sessions,
// subscriptions) and the REST resources that create, search, change and read them. No HTTP here: the server hands
// each authenticated request's method, path and parsed form to `route`.

export type StripeObject = Record<string, unknown> & { id: string; object: string };

export type SandboxSubscriptionInput = {
  id?: string;
  status: string;
  plan: string;
  /** Unix seconds; default now. */
  created?: number;
  /** Unix seconds; default created + 30 days. */
  current_period_end?: number;
};

const DAY_S = 24 * 60 * 60;
const PLAN_PRICES: Record<string, number> = { starter: 4900, pro: 9900 };

export const nowS = () => Math.floor(Date.now() / 1000);

export type StripeResources = ReturnType<typeof createStripeResources>;

/** `baseUrl` is read when a session is created: the hosted pages' URLs are on the sandbox itself. */
export function createStripeResources(baseUrl: () => string) {
  const customers = new Map<string, StripeObject>();
  const sessions = new Map<string, StripeObject>();
  const portal = new Map<string, StripeObject>();
  // What a Checkout Session's subscription will carry (subscription_data), kept beside the session.
  const sessionSubscriptions = new Map<string, { metadata: Record<string, string>; plan?: string }>();
  const subscriptions = new Map<string, { object: StripeObject; lastEventCreated: number }>();
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

  // An older event (smaller `created`) does not change the sandbox's own copy of the subscription:
  // GET /v1/subscriptions/:id always answers the newest state, as Stripe would.
  function remember(object: StripeObject, eventCreated: number): void {
    const known = subscriptions.get(object.id);
    if (known && known.lastEventCreated > eventCreated) return;
    subscriptions.set(object.id, { object, lastEventCreated: eventCreated });
  }

  /** Pays an open Checkout Session: its subscription exists from now on (`created`, Unix seconds). */
  function completeCheckout(
    sessionId: string,
    opts: { status?: string } = {},
  ): { subscription: StripeObject; created: number } {
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
    return { subscription, created };
  }

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

  // GET /v1/customers/search: the one query form NMC uses, `metadata['key']:'value'` (Stripe's
  // search syntax), answered at once (Stripe's own index lags by up to a minute, which is why
  // creates carry an Idempotency-Key and search is only the second line).
  function searchCustomers(query: FormObject): Answer {
    const text = textOf(query.query) ?? '';
    const clause = /^metadata\['([^']+)'\]\s*:\s*'([^']*)'$/.exec(text.trim());
    if (!clause) {
      return stripeError(400, `Invalid search query: ${text}`, {
        code: 'parameter_invalid_string',
        param: 'query',
      });
    }
    const [, key, value] = clause;
    const data = [...customers.values()].filter(
      (c) => (c.metadata as Record<string, string>)[key ?? ''] === value && c.deleted !== true,
    );
    return {
      status: 200,
      body: { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/customers/search' },
    };
  }

  function priceById(id: string | undefined): StripeObject | undefined {
    return id === undefined ? undefined : prices.get(id);
  }

  // POST /v1/subscriptions: a subscription billed by invoice (collection_method send_invoice), so it
  // is active without a card, as for a business staff sign up; Stripe then sends
  // customer.subscription.created.
  function createSubscription(params: FormObject): Answer {
    const customer = textOf(params.customer);
    if (customer === undefined || !customers.has(customer))
      return missing('customer', customer ?? '', 'customer');
    const item = objectOf(listOf(params.items)[0]);
    const price = priceById(textOf(item?.price));
    if (!price) return missing('price', textOf(item?.price) ?? '', 'items[0][price]');
    const plan = (price.metadata as Record<string, string>).plan ?? 'starter';
    const object = subscriptionObject({ customer, status: 'active', plan });
    object.metadata = { ...metadataOf(params.metadata), plan };
    object.collection_method = textOf(params.collection_method) ?? 'charge_automatically';
    remember(object, nowS());
    return { status: 200, body: object, emits: { type: 'customer.subscription.created', object } };
  }

  function listSubscriptions(query: FormObject): Answer {
    const customer = textOf(query.customer);
    const status = textOf(query.status);
    const data = [...subscriptions.values()]
      .map((s) => s.object)
      .filter(
        (s) =>
          (customer === undefined || s.customer === customer) &&
          (status === 'all' || (status === undefined ? s.status !== 'canceled' : s.status === status)),
      );
    return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/subscriptions' } };
  }

  // POST /v1/subscriptions/:id with items[0][id] + items[0][price]: a plan change.
  function updateSubscription(id: string, params: FormObject): Answer {
    const known = subscriptions.get(id);
    if (!known) return missing('subscription', id);
    const item = objectOf(listOf(params.items)[0]);
    const price = priceById(textOf(item?.price));
    if (textOf(item?.price) !== undefined && !price)
      return missing('price', textOf(item?.price) ?? '', 'items[0][price]');
    const plan = price
      ? ((price.metadata as Record<string, string>).plan ?? 'starter')
      : String((known.object.metadata as Record<string, string>).plan);
    const object = subscriptionObject({
      id,
      customer: String(known.object.customer),
      status: String(known.object.status),
      plan,
      created: Number(known.object.created),
    });
    object.metadata = {
      ...(known.object.metadata as Record<string, string>),
      ...metadataOf(params.metadata),
      plan,
    };
    remember(object, nowS());
    return { status: 200, body: object, emits: { type: 'customer.subscription.updated', object } };
  }

  // DELETE /v1/subscriptions/:id: canceled at once; Stripe sends customer.subscription.deleted.
  function cancelSubscription(id: string): Answer {
    const known = subscriptions.get(id);
    if (!known) return missing('subscription', id);
    const at = nowS();
    const object: StripeObject = { ...known.object, status: 'canceled', canceled_at: at, ended_at: at };
    remember(object, at);
    return { status: 200, body: object, emits: { type: 'customer.subscription.deleted', object } };
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
      url: `${baseUrl()}/c/pay/${id}`,
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
      url: `${baseUrl()}/p/session/${id}`,
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
    if (method === 'GET' && path === '/v1/customers/search') return searchCustomers(query);
    if (method === 'POST' && path === '/v1/subscriptions') return createSubscription(params);
    if (method === 'GET' && path === '/v1/subscriptions') return listSubscriptions(query);
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
    if (method === 'POST' && subscription !== undefined) return updateSubscription(subscription, params);
    if (method === 'DELETE' && subscription !== undefined) return cancelSubscription(subscription);
    return stripeError(404, `Unrecognized request URL (${method}: ${path}).`);
  }

  return {
    customers,
    sessions,
    portal,
    subscriptions,
    subscriptionObject,
    remember,
    completeCheckout,
    route,
    reset(): void {
      customers.clear();
      sessions.clear();
      sessionSubscriptions.clear();
      portal.clear();
      subscriptions.clear();
    },
  };
}
