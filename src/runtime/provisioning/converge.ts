import { backoffDelayMs, MAX_ATTEMPTS } from '../../domain/backoff.ts';
import { type Plan, planConvergence } from '../../domain/provisioning/plan.ts';
import type { StepName } from '../../domain/provisioning/steps.ts';
import { inTransaction } from '../../persistence/db.ts';
import {
  claimStep,
  finishStep,
  latestDesired,
  loadSteps,
  markConverged,
  observedOf,
} from '../../persistence/repositories/provisioning.ts';
import { writeOutboxEvents } from '../outbox.ts';
import { executeStep, isRetryable } from './execute-step.ts';
import { DEFAULT_LEASE_SECONDS, type ProvisioningDeps, type StepResult } from './provisioning-deps.ts';
import { scheduleConvergence } from './provisioning-jobs.ts';

// One convergence run for one tenant (a pg-boss job): plan, claim the step, act at the provider,
// record the result with its event, and again, until the tenant is converged or has to wait (a
// backoff, a provider's review, another runner's lease). Then the next run is scheduled.
//
// What must stay true:
// - The claim commits before the provider is called, and the result is recorded only if the claim
//   still holds: two runners never both record a step, and a runner that died mid-step leaves a
//   lease that runs out, after which the step runs again and finds what the first run made.
// - Every status change of a step is an nmc.provisioning.StepChanged event, written with it.
// - A provider failure that may pass is retried with the project's backoff (src/domain/backoff.ts);
//   after MAX_ATTEMPTS, or at once when it cannot pass, the step is `failed`: a dead letter that an
//   operator replays (nmc tenants converge, POST /api/staff/tenants/:id/converge).

/** More steps than any lifecycle has; a run that used them up hands over to a new run. */
const MAX_STEPS_PER_RUN = 30;

export type ConvergeOutcome = {
  /** Why the run ended: the planner's answer, or `yielded` when it used up its step budget. */
  plan: Plan | { kind: 'yielded' };
  steps: { step: StepName; status: string }[];
};

function stepEvent(
  tenantId: string,
  input: { step: StepName; status: string; version: number; attempt: number; reason: string | null },
  correlationId: string,
  at: Date,
) {
  return {
    tenantId,
    name: 'nmc.provisioning.StepChanged',
    payload: {
      step: input.step,
      status: input.status,
      desired_version: input.version,
      attempt: input.attempt,
      reason: input.reason,
    },
    occurredAt: at.toISOString(),
    correlationId,
    causationId: null,
  };
}

export async function convergeTenant(
  deps: ProvisioningDeps,
  tenantId: string,
  correlationId: string,
  options: { maxSteps?: number } = {},
): Promise<ConvergeOutcome> {
  const done: { step: StepName; status: string }[] = [];
  const budget = options.maxSteps ?? MAX_STEPS_PER_RUN;
  for (let i = 0; i < budget; i += 1) {
    const desired = await latestDesired(deps.db, tenantId);
    if (!desired) return { plan: { kind: 'converged' }, steps: done };
    const stored = await loadSteps(deps.db, tenantId);
    const observed = observedOf(stored);
    const now = new Date();
    const plan = planConvergence({
      desired: desired.spec,
      observed,
      webhookBaseUrl: deps.webhookBaseUrl,
      now,
    });
    if (plan.kind === 'converged') {
      await inTransaction(deps.db, async (client) => {
        if (await markConverged(client, tenantId, desired.version)) {
          await writeOutboxEvents(client, [
            {
              tenantId,
              name: 'nmc.provisioning.TenantConverged',
              payload: { desired_version: desired.version, lifecycle: desired.spec.lifecycle },
              occurredAt: now.toISOString(),
              correlationId,
              causationId: null,
            },
          ]);
        }
      });
      return { plan, steps: done };
    }
    if (plan.kind === 'later') {
      await scheduleConvergence(deps.boss, tenantId, new Date(plan.at));
      return { plan, steps: done };
    }
    if (plan.kind === 'blocked') return { plan, steps: done };

    const { step } = plan;
    const claimed = await inTransaction(deps.db, async (client) => {
      const attempt = await claimStep(client, {
        tenantId,
        step,
        rowVersion: plan.rowVersion,
        fingerprint: plan.fingerprint,
        desiredVersion: desired.version,
        again: plan.again,
        leaseSeconds: deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
      });
      if (attempt === null) return null;
      await writeOutboxEvents(client, [
        stepEvent(
          tenantId,
          { step, status: 'running', version: desired.version, attempt, reason: null },
          correlationId,
          now,
        ),
      ]);
      return attempt;
    });
    // Someone else moved the step first: plan again from what they left.
    if (claimed === null) continue;
    const claimedVersion = plan.rowVersion + 1;
    const previous = observed[step]?.outputs ?? {};

    let result: StepResult;
    try {
      result = await executeStep(step, {
        deps,
        tenantId,
        desired: desired.spec,
        desiredVersion: desired.version,
        input: plan.input,
        previous,
        outputs: (name) => observed[name]?.outputs,
        again: plan.again,
        now,
      });
    } catch (err) {
      const message = String((err as Error)?.message ?? err).slice(0, 500);
      const retry = isRetryable(err) && claimed < MAX_ATTEMPTS;
      const nextAttemptAt = retry
        ? new Date(Date.now() + backoffDelayMs(claimed - 1, deps.random ?? Math.random))
        : null;
      deps.logger.warn(
        { tenant_id: tenantId, step, attempt: claimed, retry, err: message },
        'provisioning step failed',
      );
      const recorded = await inTransaction(deps.db, async (client) => {
        const ok = await finishStep(client, {
          tenantId,
          step,
          claimedVersion,
          status: retry ? 'pending' : 'failed',
          outputs: previous,
          lastError: message,
          nextAttemptAt,
        });
        if (ok) {
          await writeOutboxEvents(client, [
            stepEvent(
              tenantId,
              {
                step,
                status: retry ? 'pending' : 'failed',
                version: desired.version,
                attempt: claimed,
                reason: message,
              },
              correlationId,
              new Date(),
            ),
          ]);
        }
        return ok;
      });
      done.push({ step, status: retry ? 'pending' : 'failed' });
      if (recorded && nextAttemptAt) await scheduleConvergence(deps.boss, tenantId, nextAttemptAt);
      if (!recorded) continue;
      return {
        plan: retry
          ? { kind: 'later', step, at: nextAttemptAt?.toISOString() ?? '', why: 'backoff' }
          : { kind: 'blocked', step, reason: message },
        steps: done,
      };
    }

    const recorded = await inTransaction(deps.db, async (client) => {
      const ok = await finishStep(client, {
        tenantId,
        step,
        claimedVersion,
        status: result.status,
        outputs: result.outputs,
        lastError: result.status === 'failed' ? (result.reason ?? 'failed') : null,
        nextAttemptAt: result.status === 'waiting' ? (result.recheckAt ?? null) : null,
      });
      if (!ok) return false;
      await writeOutboxEvents(client, [
        stepEvent(
          tenantId,
          {
            step,
            status: result.status,
            version: desired.version,
            attempt: claimed,
            reason: result.reason ?? null,
          },
          correlationId,
          new Date(),
        ),
      ]);
      // After the event: the purge's deletion takes the tenant's events with it, its own included.
      await result.commit?.(client);
      return true;
    });
    done.push({ step, status: result.status });
    if (!recorded) {
      // The purge deletes the step's own row with the tenant; anything else lost its claim.
      if (step === 'purge' && result.status === 'done') return { plan: { kind: 'converged' }, steps: done };
      deps.logger.warn(
        { tenant_id: tenantId, step },
        'provisioning step lost its claim; its result was not recorded',
      );
    }
  }
  await scheduleConvergence(deps.boss, tenantId);
  return { plan: { kind: 'yielded' }, steps: done };
}
