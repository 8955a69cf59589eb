import type { DesiredState } from './desired-state.ts';
import { canonicalJson, type StepName, type StepOutputs, stepInput, stepsFor } from './steps.ts';

// The convergence planner: given the desired state and what each step last did, the one thing to
// do next. Pure (the clock is an argument); src/runtime/provisioning/converge.ts acts on its answer.
//
// What must stay true:
// - Steps run one at a time, in order: a step acts only when every step before it is done with
//   the input the current desired state gives it.
// - A step is done only for the input it completed with (its fingerprint). A new desired state
//   re-runs exactly the steps whose input changed, and the steps that read their outputs.
// - A step someone else holds (running, lease not yet over) is never planned again; a lease that
//   ran out (its runner died) makes the step plannable again.
// - A failed step stops convergence until an operator replays it, or the desired state changes
//   its input (a rejected brand is fixed by new brand data, not by retrying the same).
// - `row_version` travels with the plan: the runtime claims the step only from that version.

export type StepStatus = 'pending' | 'running' | 'done' | 'waiting' | 'failed';

export type ObservedStep = {
  status: StepStatus;
  fingerprint: string | null;
  outputs: StepOutputs;
  attempts: number;
  last_error: string | null;
  /** pending: not before (backoff); waiting: when to ask the provider again. */
  next_attempt_at: string | null;
  lease_until: string | null;
  row_version: number;
};

export type Observed = Partial<Record<StepName, ObservedStep>>;

export type PlanInput = {
  desired: DesiredState;
  observed: Observed;
  webhookBaseUrl: string;
  now: string | Date;
};

export type Plan =
  | {
      kind: 'act';
      step: StepName;
      input: Record<string, unknown>;
      fingerprint: string;
      /** The row version the plan was made from (0 when the step has no row yet). */
      rowVersion: number;
      /** The step ran before with this same input (a retry, or a poll of a waiting step). */
      again: boolean;
    }
  | { kind: 'later'; step: StepName; at: string; why: 'backoff' | 'provider' | 'lease' }
  | { kind: 'blocked'; step: StepName; reason: string }
  | { kind: 'converged' };

export type StepView = {
  step: StepName;
  /** The stored status, or `pending` when the desired state now asks this step for something else. */
  status: StepStatus;
  stale: boolean;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  outputs: StepOutputs;
};

const ms = (at: string | Date) => (typeof at === 'string' ? Date.parse(at) : at.getTime());

function fingerprintOf(
  step: StepName,
  input: Omit<PlanInput, 'now'>,
): { input: Record<string, unknown>; fingerprint: string } {
  const stepIn = stepInput(step, {
    desired: input.desired,
    outputs: (name) => input.observed[name]?.outputs,
    webhookBaseUrl: input.webhookBaseUrl,
  });
  return { input: stepIn, fingerprint: canonicalJson(stepIn) };
}

export function planConvergence(input: PlanInput): Plan {
  const now = ms(input.now);
  for (const step of stepsFor(input.desired)) {
    const { input: stepIn, fingerprint } = fingerprintOf(step, input);
    const seen = input.observed[step];
    const act = (again: boolean): Plan => ({
      kind: 'act',
      step,
      input: stepIn,
      fingerprint,
      rowVersion: seen?.row_version ?? 0,
      again,
    });
    if (!seen) return act(false);
    // Someone holds it: whatever its input, nobody else touches it until the lease is over.
    if (seen.status === 'running') {
      if (seen.lease_until !== null && ms(seen.lease_until) > now) {
        return { kind: 'later', step, at: seen.lease_until, why: 'lease' };
      }
      return act(seen.fingerprint === fingerprint);
    }
    const same = seen.fingerprint === fingerprint;
    if (!same) return act(false);
    switch (seen.status) {
      case 'done':
        continue;
      case 'failed':
        return { kind: 'blocked', step, reason: seen.last_error ?? 'failed' };
      case 'waiting':
      case 'pending':
        if (seen.next_attempt_at !== null && ms(seen.next_attempt_at) > now) {
          return {
            kind: 'later',
            step,
            at: seen.next_attempt_at,
            why: seen.status === 'waiting' ? 'provider' : 'backoff',
          };
        }
        return act(true);
    }
  }
  return { kind: 'converged' };
}

/** Every step of the current desired state as an operator should see it. */
export function describeSteps(input: Omit<PlanInput, 'now'>): StepView[] {
  return stepsFor(input.desired).map((step) => {
    const seen = input.observed[step];
    const { fingerprint } = fingerprintOf(step, input);
    const stale = seen !== undefined && seen.status !== 'running' && seen.fingerprint !== fingerprint;
    return {
      step,
      status: seen === undefined || stale ? 'pending' : seen.status,
      stale,
      attempts: seen?.attempts ?? 0,
      last_error: seen?.last_error ?? null,
      next_attempt_at: seen?.next_attempt_at ?? null,
      outputs: seen?.outputs ?? {},
    };
  });
}
