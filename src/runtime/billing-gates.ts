import {
  ALL_GATES,
  DEFAULT_GRACE_DAYS,
  type Gates,
  gatesForSubscriptions,
  NO_GATES,
} from '../domain/feature-gates.ts';
import type { Queryable } from '../persistence/db.ts';
import { listSubscriptions, type SubscriptionRow } from '../persistence/repositories/billing.ts';
import { tenantClosedAt } from '../persistence/repositories/tenants.ts';
import type { GatesReader } from './conversation-facts.ts';
import { heldOr } from './tenant-facts.ts';

// Feature gates from the billing module. A tenant with no subscription at all keeps every gate
// open: the demo tenant and tenants provisioned by staff have no Stripe subscription. Once a tenant
// has one, its subscriptions decide (src/domain/feature-gates.ts).
//
// The grace period for past_due is a constant for now; it belongs in policy_values with the other
// business constants once the policy catalog has a billing key.

export const PAST_DUE_GRACE_DAYS = DEFAULT_GRACE_DAYS;

export type BillingState = {
  /** The subscription shown to the owner: the latest one that still pays, else the latest one. */
  primary: SubscriptionRow | null;
  gates: Gates;
};

const PAYING = new Set(['active', 'trialing', 'past_due']);

export function billingStateOf(subscriptions: readonly SubscriptionRow[], at: string | Date): BillingState {
  if (subscriptions.length === 0) return { primary: null, gates: { ...ALL_GATES } };
  const primary = subscriptions.find((s) => PAYING.has(s.status)) ?? subscriptions[0] ?? null;
  const facts = subscriptions.map((s) => ({
    plan: s.plan,
    status: s.status,
    pastDueSince: s.pastDueSince === null ? null : new Date(s.pastDueSince * 1000),
  }));
  return { primary, gates: gatesForSubscriptions(facts, at, { graceDays: PAST_DUE_GRACE_DAYS }) };
}

/** What the gates are computed from at any moment: kept per process with the tenant's facts. */
export type BillingFacts = { subscriptions: SubscriptionRow[]; closedAt: Date | null };

async function readBillingFacts(db: Queryable, tenantId: string): Promise<BillingFacts> {
  return {
    subscriptions: await listSubscriptions(db, tenantId),
    closedAt: await tenantClosedAt(db, tenantId),
  };
}

function billingStateAt(facts: BillingFacts, at: string | Date): BillingState {
  const state = billingStateOf(facts.subscriptions, at);
  // A closed tenant (src/runtime/provisioning, the stop_sending step) uses nothing, paid or not.
  const closed = facts.closedAt !== null && facts.closedAt.getTime() <= new Date(at).getTime();
  return closed ? { ...state, gates: { ...NO_GATES } } : state;
}

export async function readBillingState(
  db: Queryable,
  tenantId: string,
  at: string | Date,
): Promise<BillingState> {
  return billingStateAt(await readBillingFacts(db, tenantId), at);
}

/**
 * The gates at `at`. With the tenant's facts at the reader's version (`cached`), the billing facts
 * held there are used, and ones read are handed back to be kept: a hit costs no statement.
 */
export const readGatesFromBilling: GatesReader = async (db, tenantId, at, cached) => {
  const billing = await heldOr(cached, 'billing', () => readBillingFacts(db, tenantId));
  return billingStateAt(billing, at).gates;
};
