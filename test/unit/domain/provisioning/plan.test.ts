import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../../../src/domain/provisioning/desired-state.ts';
import {
  describeSteps,
  type Observed,
  type ObservedStep,
  planConvergence,
} from '../../../../src/domain/provisioning/plan.ts';
import {
  ACTIVE_STEPS,
  CLOSING_STEPS,
  canonicalJson,
  type StepName,
  stepInput,
} from '../../../../src/domain/provisioning/steps.ts';

const BASE = 'https://nmc.example';
const NOW = '2026-12-03T12:00:00.000Z';
const LATER = '2026-12-03T12:05:00.000Z';
const EARLIER = '2026-12-03T11:55:00.000Z';

const desired: DesiredState = {
  name: 'Acme Plumbing',
  time_zone: 'America/New_York',
  forwarding_phone: '+14155550100',
  number: { kind: 'area_code', area_code: '415' },
  plan: 'starter',
  ten_dlc: null,
  template: 'plumbing',
  lifecycle: 'active',
};

const OUTPUTS: Partial<Record<StepName, Record<string, unknown>>> = {
  stripe_customer: { customer_id: 'cus_1' },
  subscription: { subscription_id: 'sub_1' },
  phone_number: { number_sid: 'PN1', phone_number: '+14155550111' },
  ten_dlc_brand: { brand_sid: 'BN1' },
  messaging_service: { service_sid: 'MG1' },
};

/** Every step of `steps` done with the input `spec` gives it, each carrying the usual outputs. */
function converged(spec: DesiredState, steps: readonly StepName[] = ACTIVE_STEPS): Observed {
  const observed: Observed = {};
  for (const step of steps) {
    const outputs = OUTPUTS[step] ?? {};
    const input = stepInput(step, {
      desired: spec,
      outputs: (name) => observed[name]?.outputs ?? OUTPUTS[name],
      webhookBaseUrl: BASE,
    });
    observed[step] = row({ status: 'done', fingerprint: canonicalJson(input), outputs });
  }
  return observed;
}

function row(overrides: Partial<ObservedStep>): ObservedStep {
  return {
    status: 'done',
    fingerprint: null,
    outputs: {},
    attempts: 1,
    last_error: null,
    next_attempt_at: null,
    lease_until: null,
    row_version: 3,
    ...overrides,
  };
}

const plan = (observed: Observed, spec: DesiredState = desired, now: string = NOW) =>
  planConvergence({ desired: spec, observed, webhookBaseUrl: BASE, now });

describe('planConvergence', () => {
  it('starts a new tenant with the first step, from row version 0', () => {
    expect(plan({})).toMatchObject({ kind: 'act', step: 'profile', rowVersion: 0, again: false });
  });

  it('walks the active steps in order, one at a time', () => {
    const all = converged(desired);
    const seen: StepName[] = [];
    const observed: Observed = {};
    for (;;) {
      const next = plan(observed);
      if (next.kind !== 'act') {
        expect(next.kind).toBe('converged');
        break;
      }
      seen.push(next.step);
      observed[next.step] = all[next.step];
    }
    expect(seen).toEqual([...ACTIVE_STEPS]);
  });

  it('says converged when every step is done with the input the desired state gives it', () => {
    expect(plan(converged(desired))).toEqual({ kind: 'converged' });
  });

  it('a new forwarding phone re-runs only the profile step', () => {
    const observed = converged(desired);
    const next = plan(observed, { ...desired, forwarding_phone: '+14155550199' });
    expect(next).toMatchObject({ kind: 'act', step: 'profile', again: false });
    observed.profile = row({
      status: 'done',
      fingerprint: next.kind === 'act' ? next.fingerprint : null,
    });
    expect(plan(observed, { ...desired, forwarding_phone: '+14155550199' })).toEqual({ kind: 'converged' });
  });

  it('a plan change re-runs only the subscription step', () => {
    const observed = converged(desired);
    const changed = { ...desired, plan: 'pro' as const };
    const next = plan(observed, changed);
    expect(next).toMatchObject({ kind: 'act', step: 'subscription' });
    if (next.kind !== 'act') throw new Error('unreachable');
    expect(next.input).toEqual({ plan: 'pro', customer_id: 'cus_1' });
    observed.subscription = row({ fingerprint: next.fingerprint, outputs: OUTPUTS.subscription ?? {} });
    expect(plan(observed, changed)).toEqual({ kind: 'converged' });
  });

  // The campaign belongs to the messaging service, which keeps its id: the new number joins it.
  it('a new number re-runs the steps that read it (webhooks, its messaging service) and nothing else', () => {
    const observed = converged(desired);
    observed.phone_number = row({
      ...observed.phone_number,
      outputs: { number_sid: 'PN2', phone_number: '+14155550112' },
    });
    const acted: StepName[] = [];
    for (let i = 0; i < 20; i += 1) {
      const next = plan(observed);
      if (next.kind !== 'act') break;
      acted.push(next.step);
      observed[next.step] = row({
        fingerprint: next.fingerprint,
        outputs: observed[next.step]?.outputs ?? {},
      });
    }
    expect(acted).toEqual(['number_webhooks', 'messaging_service']);
  });

  it('a moved public base URL re-points the webhooks', () => {
    const observed = converged(desired);
    expect(
      planConvergence({ desired, observed, webhookBaseUrl: 'https://moved.example', now: NOW }),
    ).toMatchObject({ kind: 'act', step: 'number_webhooks' });
  });

  it('does not touch a step another runner holds, until its lease is over', () => {
    const observed = converged(desired);
    observed.catalog = row({
      status: 'running',
      lease_until: LATER,
      fingerprint: observed.catalog?.fingerprint ?? null,
    });
    expect(plan(observed)).toEqual({ kind: 'later', step: 'catalog', at: LATER, why: 'lease' });
    observed.catalog = row({ ...observed.catalog, lease_until: EARLIER });
    expect(plan(observed)).toMatchObject({ kind: 'act', step: 'catalog', again: true, rowVersion: 3 });
  });

  it('a running step with a new input still waits for its lease', () => {
    const observed = converged(desired);
    observed.profile = row({ status: 'running', lease_until: LATER, fingerprint: 'old' });
    expect(plan(observed)).toMatchObject({ kind: 'later', step: 'profile', why: 'lease' });
  });

  it('a running step without a lease can be claimed again', () => {
    const observed = converged(desired);
    observed.profile = row({ status: 'running', lease_until: null, fingerprint: 'old' });
    expect(plan(observed)).toMatchObject({ kind: 'act', step: 'profile', again: false });
  });

  it('waits out the backoff of a pending retry, then retries with the same input', () => {
    const observed = converged(desired);
    observed.stripe_customer = row({
      ...observed.stripe_customer,
      status: 'pending',
      next_attempt_at: LATER,
    });
    expect(plan(observed)).toEqual({ kind: 'later', step: 'stripe_customer', at: LATER, why: 'backoff' });
    expect(plan(observed, desired, '2026-12-03T12:06:00.000Z')).toMatchObject({
      kind: 'act',
      step: 'stripe_customer',
      again: true,
    });
  });

  it('a pending step without a time is acted on at once', () => {
    const observed = converged(desired);
    observed.catalog = row({ ...observed.catalog, status: 'pending', next_attempt_at: null });
    expect(plan(observed)).toMatchObject({ kind: 'act', step: 'catalog', again: true });
  });

  it('asks the provider again when a waiting step is due', () => {
    const observed = converged(desired);
    observed.ten_dlc_campaign = row({
      ...observed.ten_dlc_campaign,
      status: 'waiting',
      next_attempt_at: LATER,
    });
    expect(plan(observed)).toEqual({ kind: 'later', step: 'ten_dlc_campaign', at: LATER, why: 'provider' });
    expect(plan(observed, desired, '2026-12-03T13:00:00.000Z')).toMatchObject({
      kind: 'act',
      step: 'ten_dlc_campaign',
      again: true,
    });
  });

  it('a waiting step does not hold back a change to an earlier step', () => {
    const observed = converged(desired);
    observed.ten_dlc_campaign = row({
      ...observed.ten_dlc_campaign,
      status: 'waiting',
      next_attempt_at: LATER,
    });
    expect(plan(observed, { ...desired, name: 'Acme & Sons' })).toMatchObject({
      kind: 'act',
      step: 'profile',
    });
  });

  it('a failed step blocks convergence with its reason until its input changes', () => {
    const observed = converged(desired);
    observed.ten_dlc_brand = row({
      ...observed.ten_dlc_brand,
      status: 'failed',
      last_error: 'brand rejected: TAX_ID_MISMATCH',
    });
    expect(plan(observed)).toEqual({
      kind: 'blocked',
      step: 'ten_dlc_brand',
      reason: 'brand rejected: TAX_ID_MISMATCH',
    });
    const fixed: DesiredState = {
      ...desired,
      ten_dlc: {
        brand: {
          legal_name: 'Acme Plumbing LLC',
          ein: '12-3456789',
          website: 'https://acme.example',
          vertical: 'Home services',
          contact_email: 'owner@acme.example',
        },
        campaign: {
          use_case: 'CUSTOMER_CARE',
          description: 'Texts to callers whose call we missed, to book a visit or answer a question.',
          sample_messages: [
            'Sorry we missed your call! Reply here to book.',
            'Your visit is booked for Tue 9am.',
          ],
          opt_in_description: 'Callers call the business and receive a text because the call was missed.',
        },
      },
    };
    expect(plan(observed, fixed)).toMatchObject({ kind: 'act', step: 'ten_dlc_brand', again: false });
  });

  it('a failed step with no reason still blocks', () => {
    const observed = converged(desired);
    observed.catalog = row({ ...observed.catalog, status: 'failed', last_error: null });
    expect(plan(observed)).toEqual({ kind: 'blocked', step: 'catalog', reason: 'failed' });
  });

  it('a step done with an older input acts again, not as a retry', () => {
    const observed = converged(desired);
    observed.catalog = row({ ...observed.catalog, fingerprint: '{"template":"hvac"}' });
    expect(plan(observed)).toMatchObject({ kind: 'act', step: 'catalog', again: false });
  });

  it('closing runs the closing steps in order, with the number and subscription the active steps recorded', () => {
    const observed = converged(desired);
    const closed: DesiredState = { ...desired, lifecycle: 'closed' };
    const acted: StepName[] = [];
    for (let i = 0; i < 20; i += 1) {
      const next = plan(observed, closed);
      if (next.kind !== 'act') {
        expect(next.kind).toBe('converged');
        break;
      }
      acted.push(next.step);
      if (next.step === 'release_number') expect(next.input).toEqual({ number_sid: 'PN1' });
      if (next.step === 'cancel_subscription') expect(next.input).toEqual({ subscription_id: 'sub_1' });
      observed[next.step] = row({ fingerprint: next.fingerprint });
    }
    expect(acted).toEqual([...CLOSING_STEPS]);
  });

  it('a closed tenant whose purge waits for the retention period is not converged', () => {
    const closed: DesiredState = { ...desired, lifecycle: 'closed' };
    const observed = { ...converged(desired), ...converged(closed, CLOSING_STEPS) };
    observed.purge = row({ ...observed.purge, status: 'waiting', next_attempt_at: LATER });
    expect(plan(observed, closed)).toEqual({ kind: 'later', step: 'purge', at: LATER, why: 'provider' });
  });

  it('accepts the clock as a Date too', () => {
    const observed = converged(desired);
    observed.catalog = row({ ...observed.catalog, status: 'pending', next_attempt_at: LATER });
    expect(planConvergence({ desired, observed, webhookBaseUrl: BASE, now: new Date(NOW) })).toMatchObject({
      kind: 'later',
    });
  });
});

describe('describeSteps', () => {
  it('shows every step, a step whose input changed as pending (stale)', () => {
    const observed = converged(desired);
    const views = describeSteps({ desired: { ...desired, plan: 'pro' }, observed, webhookBaseUrl: BASE });
    expect(views.map((v) => v.step)).toEqual([...ACTIVE_STEPS]);
    expect(views.find((v) => v.step === 'subscription')).toMatchObject({ status: 'pending', stale: true });
    expect(views.filter((v) => v.status === 'done')).toHaveLength(ACTIVE_STEPS.length - 1);
  });

  it('shows a step never run as pending, not stale', () => {
    expect(describeSteps({ desired, observed: {}, webhookBaseUrl: BASE })[0]).toMatchObject({
      step: 'profile',
      status: 'pending',
      stale: false,
      attempts: 0,
    });
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: null }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":null,"f":1}]},"b":1}',
    );
  });

  it('keeps hostile keys as ordinary keys', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":1,"constructor":2}'))).toBe(
      '{"__proto__":1,"constructor":2}',
    );
  });
});
