// Stripe's error envelope, as the SDK reads it into its typed errors.

export type Answer = {
  status: number;
  body: unknown;
  /** The webhook event Stripe sends because of this request (a subscription created, updated, canceled). */
  emits?: { type: string; object: Record<string, unknown> & { id: string; object: string } };
};

export function stripeError(status: number, message: string, extra: Record<string, unknown> = {}): Answer {
  const type =
    status === 401 ? 'invalid_request_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return { status, body: { error: { type, message, ...extra } } };
}

export function missing(kind: string, id: string, param = 'id'): Answer {
  return stripeError(404, `No such ${kind}: '${id}'`, { code: 'resource_missing', param });
}
