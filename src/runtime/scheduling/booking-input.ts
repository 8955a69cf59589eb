import { AppError } from '../../domain/errors.ts';
import { parseInstant } from '../../domain/instant.ts';
import type { Queryable } from '../../persistence/db.ts';
import { getService, type Service } from '../../persistence/repositories/catalog.ts';

// Booking arguments checked at the boundary, once, with messages a client can act on: a malformed
// time is validation_failed; an id that is not a UUID cannot name anything, so it is not_found
// (never a database cast error, i.e. never a 500 for a client's mistake).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function instantParam(name: string, value: string): number {
  try {
    return parseInstant(value);
  } catch {
    throw new AppError(
      'validation_failed',
      `${name} must be an RFC 3339 time with an offset, e.g. 2026-03-08T17:00:00Z`,
    );
  }
}

/** Throws not_found (`<what> not found`) unless `id` is a UUID. */
export function knownId(what: string, id: string): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new AppError('not_found', `${what} not found`);
  return id;
}

/** An active service of the tenant, or AppError not_found: an inactive service is never booked. */
export async function activeService(db: Queryable, tenantId: string, serviceId: string): Promise<Service> {
  const service = await getService(db, tenantId, knownId('service', serviceId));
  if (service === null || !service.active) throw new AppError('not_found', 'service not found');
  return service;
}
