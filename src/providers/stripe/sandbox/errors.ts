// Stripe's error envelope, as the SDK reads it into its typed errors.

export type Answer = { status: number; body: unknown };

export function stripeError(status: number, message: string, extra: Record<string, unknown> = {}): Answer {
  const type =
    status === 401 ? 'invalid_request_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return { status, body: { error: { type, message, ...extra } } };
}

export function missing(kind: string, id: string, param = 'id'): Answer {
  return stripeError(404, `No such ${kind}: '${id}'`, { code: 'resource_missing', param });
}
