import type { PgBoss } from 'pg-boss';
import type { DesiredState } from '../../domain/provisioning/desired-state.ts';
import type { StepName, StepOutputs } from '../../domain/provisioning/steps.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Pool, PoolClient } from '../../persistence/db.ts';
import type { StripeClient } from '../../providers/stripe/client.ts';
import type { TwilioClient } from '../../providers/twilio/client.ts';
import type { DriftCheck } from './reconcile.ts';

// What convergence needs: the database, the job queue, the providers' clients (the real SDKs, at
// the sandboxes in local runs and tests) and where our webhooks live.

export type ProvisioningDeps = {
  db: Pool;
  boss: Pick<PgBoss, 'send'>;
  twilio: TwilioClient;
  stripe: StripeClient;
  /** PUBLIC_BASE_URL: the tenant's number and messaging service send their webhooks here. */
  webhookBaseUrl: string;
  logger: Logger;
  /** How long a claimed step is held before another runner may take it over. Default 120 s. */
  leaseSeconds?: number;
  /** How long to wait before asking a provider about a review again. Default 60 s. */
  reviewPollMs?: number;
  /** Days a closed tenant's data is kept before it is deleted. Default 30. */
  closedRetentionDays?: number;
  random?: () => number;
  /**
   * The platform's own number, which texts onboarding verification codes (no tenant, so no tenant
   * campaign, exists yet); absent, phone verification answers 503.
   */
  platformSmsFrom?: string;
  /** Drift checks of other modules (the calendars' watch channels), run with ours on every reconciliation. */
  driftChecks?: readonly DriftCheck[];
};

/** One step's run: its input, the outputs it recorded last time, and the other steps' outputs. */
export type StepRun = {
  deps: ProvisioningDeps;
  tenantId: string;
  desired: DesiredState;
  desiredVersion: number;
  input: Record<string, unknown>;
  /** This step's outputs from its previous run (kept across runs until replaced). */
  previous: StepOutputs;
  outputs: (step: StepName) => StepOutputs | undefined;
  /** The same input ran before (a retry, or a poll of a waiting step). */
  again: boolean;
  now: Date;
};

export type StepResult = {
  status: 'done' | 'waiting' | 'failed';
  outputs: StepOutputs;
  /** failed: why (a provider's rejection); waiting: what it waits for. */
  reason?: string;
  /** waiting: when to ask again. */
  recheckAt?: Date;
  /** Changes to our own tables, committed with the step's result. */
  commit?: (client: PoolClient) => Promise<void>;
};

export const DEFAULT_LEASE_SECONDS = 120;
export const DEFAULT_REVIEW_POLL_MS = 60_000;
export const DEFAULT_CLOSED_RETENTION_DAYS = 30;
