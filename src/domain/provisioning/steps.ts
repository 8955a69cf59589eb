import type { DesiredState } from './desired-state.ts';

// The convergence steps, in the order they run, and what each one's input is. A step's input is the
// part of the desired state it acts on plus the outputs of the steps before it (the number it
// points webhooks at, the customer it subscribes); when that input changes, the step acts again and
// only then. An open tenant runs ACTIVE_STEPS, a closed one CLOSING_STEPS.

export const ACTIVE_STEPS = [
  'profile',
  'stripe_customer',
  'subscription',
  'phone_number',
  'number_webhooks',
  'catalog',
  'ten_dlc_brand',
  'messaging_service',
  'ten_dlc_campaign',
] as const;

export const CLOSING_STEPS = [
  'export',
  'stop_sending',
  'release_number',
  'cancel_subscription',
  'purge',
] as const;

export type ActiveStep = (typeof ACTIVE_STEPS)[number];
export type ClosingStep = (typeof CLOSING_STEPS)[number];
export type StepName = ActiveStep | ClosingStep;

export const STEP_NAMES: readonly StepName[] = [...ACTIVE_STEPS, ...CLOSING_STEPS];

export function isStepName(value: unknown): value is StepName {
  return typeof value === 'string' && (STEP_NAMES as readonly string[]).includes(value);
}

export type StepOutputs = Readonly<Record<string, unknown>>;

export type StepContext = {
  desired: DesiredState;
  /** What earlier steps recorded (provider ids), by step; absent until a step has run. */
  outputs: (step: StepName) => StepOutputs | undefined;
  /** Where the tenant's number must send its webhooks (PUBLIC_BASE_URL). */
  webhookBaseUrl: string;
};

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** What each step acts on. Everything a step reads from the desired state or from earlier steps is here. */
export function stepInput(step: StepName, ctx: StepContext): Record<string, unknown> {
  const { desired } = ctx;
  const out = (name: StepName, key: string) => text(ctx.outputs(name)?.[key]);
  switch (step) {
    case 'profile':
      return { name: desired.name, time_zone: desired.time_zone, forwarding_phone: desired.forwarding_phone };
    case 'stripe_customer':
      return {};
    case 'subscription':
      return { plan: desired.plan, customer_id: out('stripe_customer', 'customer_id') };
    case 'phone_number':
      return { number: desired.number };
    case 'number_webhooks':
      return {
        number_sid: out('phone_number', 'number_sid'),
        webhook_base_url: ctx.webhookBaseUrl,
      };
    case 'catalog':
      return { template: desired.template, time_zone: desired.time_zone };
    case 'ten_dlc_brand':
      return { brand: desired.ten_dlc?.brand ?? null, name: desired.name };
    case 'messaging_service':
      return { number_sid: out('phone_number', 'number_sid'), webhook_base_url: ctx.webhookBaseUrl };
    case 'ten_dlc_campaign':
      return {
        brand_sid: out('ten_dlc_brand', 'brand_sid'),
        service_sid: out('messaging_service', 'service_sid'),
        campaign: desired.ten_dlc?.campaign ?? null,
      };
    case 'export':
    case 'stop_sending':
    case 'purge':
      return {};
    case 'release_number':
      return { number_sid: out('phone_number', 'number_sid') };
    case 'cancel_subscription':
      return { subscription_id: out('subscription', 'subscription_id') };
  }
}

/** The same value always gives the same text: object keys sorted, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function stepsFor(desired: DesiredState): readonly StepName[] {
  return desired.lifecycle === 'closed' ? CLOSING_STEPS : ACTIVE_STEPS;
}
