import type { Queryable } from '../../db.ts';

// The short codes of customers' links (sched_portal_links): one per booking and phone. Issuing
// again keeps a code that still has more than half its life, else replaces it with a fresh one.

export type PortalLink = {
  code: string;
  tenant_id: string;
  booking_id: string;
  phone: string;
  expires_at: string;
};

export async function issuePortalLink(
  db: Queryable,
  input: { tenantId: string; bookingId: string; phone: string; code: string; ttlMs: number; nowMs: number },
): Promise<PortalLink> {
  const expires = new Date(input.nowMs + input.ttlMs).toISOString();
  const renewBefore = new Date(input.nowMs + input.ttlMs / 2).toISOString();
  const { rows } = await db.query<PortalLink & { expires_at: Date }>(
    `INSERT INTO sched_portal_links (code, tenant_id, booking_id, phone, expires_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, booking_id, phone) DO UPDATE
       SET code = CASE WHEN sched_portal_links.expires_at < $6::timestamptz THEN EXCLUDED.code ELSE sched_portal_links.code END,
           expires_at = CASE WHEN sched_portal_links.expires_at < $6::timestamptz THEN EXCLUDED.expires_at ELSE sched_portal_links.expires_at END
     RETURNING code, tenant_id, booking_id, phone, expires_at`,
    [input.code, input.tenantId, input.bookingId, input.phone, expires, renewBefore],
  );
  const row = rows[0] as PortalLink & { expires_at: Date };
  return { ...row, expires_at: row.expires_at.toISOString() };
}

export async function findPortalLink(db: Queryable, code: string): Promise<PortalLink | null> {
  const { rows } = await db.query<PortalLink & { expires_at: Date }>(
    'SELECT code, tenant_id, booking_id, phone, expires_at FROM sched_portal_links WHERE code = $1',
    [code],
  );
  const row = rows[0];
  return row ? { ...row, expires_at: row.expires_at.toISOString() } : null;
}
