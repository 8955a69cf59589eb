import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../persistence/db.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { bookingOf } from '../../persistence/repositories/scheduling/appointments.ts';
import { issuePortalLink } from '../../persistence/repositories/scheduling/portal-links.ts';

// The short link a customer gets in reminders: `<PUBLIC_BASE_URL>/p/<code>`. The code names the
// booking (not the appointment), so it keeps working after a move; it expires after
// `portal.link_ttl_days`, and stops when the booking is cancelled (src/http/routes/portal.ts).

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** 12 characters from 56: about 70 bits, unguessable for a link that also expires. */
export function newLinkCode(): string {
  const bytes = randomBytes(12);
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** The customer's link for an appointment's booking; `db` is the caller's transaction when it has one. */
export type LinkFor = (input: {
  db?: Queryable;
  tenantId: string;
  appointmentId: string;
  phone: string;
}) => Promise<string | null>;

export function portalLinks(deps: { db: Queryable; publicBaseUrl: string; now?: () => number }): LinkFor {
  return async ({ db = deps.db, tenantId, appointmentId, phone }) => {
    const bookingId = await bookingOf(db, tenantId, appointmentId);
    if (bookingId === null) return null;
    const policy = await loadPolicy(db, tenantId);
    const link = await issuePortalLink(db, {
      tenantId,
      bookingId,
      phone,
      code: newLinkCode(),
      ttlMs: policy['portal.link_ttl_days'] * 86_400_000,
      nowMs: (deps.now ?? Date.now)(),
    });
    return `${deps.publicBaseUrl.replace(/\/$/, '')}/p/${link.code}`;
  };
}
