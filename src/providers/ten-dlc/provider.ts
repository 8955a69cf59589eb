import { randomUUID } from 'node:crypto';
import type { Registration } from '../../domain/ten-dlc.ts';

// The 10DLC registration provider. In production this is the messaging provider's brand and
// campaign registration (its review takes days, so a scheduled job polls pending ones). The sandbox
// accepts every submission and leaves the decision to platform staff (POST
// /api/staff/compliance/:tenantId/review), so its status is always `pending` until staff decide.

export type ProviderStatus = { status: 'pending' | 'approved' | 'rejected'; reason: string | null };

export type TenDlcProvider = {
  name: string;
  submit(tenantId: string, registration: Registration): Promise<{ ref: string }>;
  status(ref: string): Promise<ProviderStatus>;
};

export function createSandboxTenDlc(): TenDlcProvider {
  return {
    name: 'sandbox',
    submit: async () => ({ ref: `sandbox-${randomUUID()}` }),
    status: async () => ({ status: 'pending', reason: null }),
  };
}
