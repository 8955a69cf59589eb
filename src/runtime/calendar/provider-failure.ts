import { AppError } from '../../domain/errors.ts';
import { CalendarProviderError } from '../../providers/calendar/provider.ts';

// A provider failure met while answering a request (a backfill, a reconciliation), as the API
// answers it: a refused grant is the owner's to fix (409: reconnect), anything else is the
// provider not answering as it should (503, with Retry-After when the provider said when).
// Other errors pass through unchanged.

export function providerFailure(err: unknown): unknown {
  if (!(err instanceof CalendarProviderError)) return err;
  if (err.kind === 'unauthorized') {
    return new AppError('conflict', 'the calendar account refused access; reconnect it', { cause: err });
  }
  const retryAfter = err.retryAfterMs ? { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) } : null;
  return new AppError('unavailable', 'the calendar provider is not answering; try again', {
    cause: err,
    ...(retryAfter ? { headers: retryAfter } : {}),
  });
}
