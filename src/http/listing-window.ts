import { z } from 'zod';
import { appointmentWindow } from '../domain/appointment-window.ts';
import { AppError } from '../domain/errors.ts';
import type { Queryable } from '../persistence/db.ts';
import { findTenantById } from '../persistence/repositories/tenants.ts';
import { calendarDate, decodeKeysetCursor, instant } from './schemas.ts';

// The query of a listing by time (live holds, busy blocks): a window of instants or the tenant's
// local dates, one resource or all, and a keyset page. At most 62 days, so a page's cost is bounded
// by its limit and not by how far apart `from` and `to` are.

const MAX_WINDOW_DAYS = 62;

export const listingWindowQuery = z.object({
  from: z.union([calendarDate, instant]).optional(),
  to: z.union([calendarDate, instant]).optional(),
  resource_id: z.uuid().optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

export type ListingWindow = {
  from: string;
  to: string;
  /** Where the page starts: after this (start, id), from the cursor. */
  after: { start: string; id: string } | null;
};

/** The query's window in the tenant's zone; 404 for an unknown tenant, 400 past 62 days. */
export async function listingWindowOf(
  db: Queryable,
  tenantId: string,
  query: z.infer<typeof listingWindowQuery>,
  nowMs: number,
): Promise<ListingWindow> {
  const tenant = await findTenantById(db, tenantId);
  if (!tenant) throw new AppError('not_found', 'tenant not found');
  const cursor = query.cursor ? decodeKeysetCursor(query.cursor) : null;
  const window = appointmentWindow({ from: query.from, to: query.to, timeZone: tenant.time_zone, nowMs });
  if (window.toMs - window.fromMs > MAX_WINDOW_DAYS * 86_400_000)
    throw new AppError('validation_failed', `querystring.to: at most ${MAX_WINDOW_DAYS} days after from`);
  return {
    from: new Date(window.fromMs).toISOString(),
    to: new Date(window.toMs).toISOString(),
    after: cursor ? { start: cursor.at, id: cursor.key } : null,
  };
}
