// One closed catalog of error codes, each with its HTTP status. Every 4xx/5xx the API answers,
// Fastify's own included, carries one of these codes in the envelope
// `{ error: { code, message, correlation_id } }`.

export const ERROR_CATALOG = {
  validation_failed: 400,
  malformed_body: 400,
  unauthorized: 401,
  signature_invalid: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // A customer's link that expired, or whose booking was cancelled: it will not work again.
  gone: 410,
  idempotency_key_reused: 422,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  contract_violation: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** The one error type the application throws on purpose; anything else is normalised to `internal`. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CATALOG[code];
    this.headers = options.headers ?? {};
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
