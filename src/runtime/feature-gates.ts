import type { FeatureGates, GatesReader } from './conversation-facts.ts';

// Feature gates come from the tenant's subscription (billing module). Until a tenant has a billing
// record, every gate is open: that is the behaviour of the demo and of tenants provisioned by staff.
export const ALL_GATES_OPEN: FeatureGates = { sms: true, assistant: true };

export const readGatesWithoutBilling: GatesReader = async () => ALL_GATES_OPEN;
