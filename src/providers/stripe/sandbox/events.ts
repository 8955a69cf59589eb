import type { Logger } from '../../../observability/logger.ts';
import { loadStripeSdk } from '../client.ts';
import { newStripeId } from './form.ts';
import type { StripeObject } from './resources.ts';

// Stripe's side of webhooks: event and invoice objects shaped like Stripe's, posted to a webhook
// URL signed with the webhook secret exactly as Stripe signs them (Stripe-Signature: t=…,v1=…).

export type SubscriptionEventType =
  | 'customer.subscription.created'
  | 'customer.subscription.updated'
  | 'customer.subscription.deleted';
export type InvoiceEventType = 'invoice.paid' | 'invoice.payment_failed';

export type EmittedEvent = {
  event: StripeObject;
  payload: string;
  /** The webhook's answer; status 0 when it could not be reached. */
  status: number;
  body: string;
};

export function eventObject(type: string, object: StripeObject, created: number, id?: string): StripeObject {
  return {
    id: id ?? newStripeId('evt'),
    object: 'event',
    api_version: loadStripeSdk().API_VERSION,
    created,
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
}

export function invoiceObject(input: {
  paid: boolean;
  customer: string;
  subscription: string;
  created: number;
}): StripeObject {
  const { paid, customer, subscription, created } = input;
  return {
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
}

export type WebhookSender = {
  deliver(payload: string, url?: string): Promise<{ status: number; body: string }>;
  emitEvent(event: StripeObject, url?: string): Promise<EmittedEvent>;
};

export function createWebhookSender(options: {
  webhookSecret: string;
  /** Where events go unless a call names another URL. */
  webhookUrl?: string;
  logger?: Logger;
}): WebhookSender {
  async function deliver(payload: string, url?: string): Promise<{ status: number; body: string }> {
    const target = url ?? options.webhookUrl;
    if (!target) throw new Error('stripe sandbox: no webhook URL to deliver to');
    const signature = loadStripeSdk().webhooks.generateTestHeaderString({
      payload,
      secret: options.webhookSecret,
    });
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
      options.logger?.warn({ reason: (err as Error).message }, 'stripe sandbox: webhook delivery failed');
      return { status: 0, body: '' };
    }
  }

  async function emitEvent(event: StripeObject, url?: string): Promise<EmittedEvent> {
    const payload = JSON.stringify(event, null, 2);
    return { event, payload, ...(await deliver(payload, url)) };
  }

  return { deliver, emitEvent };
}
