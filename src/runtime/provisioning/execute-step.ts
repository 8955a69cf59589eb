import type { StepName } from '../../domain/provisioning/steps.ts';
import { ensureNumber, ensureNumberWebhooks, releaseTenantNumbers } from './number-steps.ts';
import type { StepResult, StepRun } from './provisioning-deps.ts';
import { cancelSubscriptions, ensureCustomer, ensureSubscription } from './stripe-steps.ts';
import { ensureBrand, ensureCampaign, ensureMessagingService } from './ten-dlc-steps.ts';
import { applyProfile, exportData, purgeAfterRetention, seedCatalog, stopSending } from './tenant-steps.ts';

// Which function does each step. Each one is idempotent: run twice with the same input (a retry,
// a second runner after a lease ran out), it finds what the first run made instead of making it again.

const EXECUTORS: Record<StepName, (run: StepRun) => Promise<StepResult>> = {
  profile: applyProfile,
  stripe_customer: ensureCustomer,
  subscription: ensureSubscription,
  phone_number: ensureNumber,
  number_webhooks: ensureNumberWebhooks,
  catalog: seedCatalog,
  ten_dlc_brand: ensureBrand,
  messaging_service: ensureMessagingService,
  ten_dlc_campaign: ensureCampaign,
  export: exportData,
  stop_sending: stopSending,
  release_number: releaseTenantNumbers,
  cancel_subscription: cancelSubscriptions,
  purge: purgeAfterRetention,
};

export function executeStep(step: StepName, run: StepRun): Promise<StepResult> {
  return EXECUTORS[step](run);
}

/** Whether a provider failure may go away by itself (network, timeout, 429, 5xx). */
export function isRetryable(err: unknown): boolean {
  const e = err as {
    permanent?: boolean;
    status?: number;
    statusCode?: number;
    code?: unknown;
    type?: string;
  };
  if (e.permanent === true) return false;
  if (e.permanent === false) return true;
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number') return status === 429 || status === 408 || status >= 500;
  // No HTTP answer at all: a timeout or a connection failure.
  return true;
}
