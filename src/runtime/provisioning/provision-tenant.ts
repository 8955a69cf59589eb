import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { AppError } from '../../domain/errors.ts';
import { type DesiredState, desiredStateSchema } from '../../domain/provisioning/desired-state.ts';
import { describeSteps, type StepView } from '../../domain/provisioning/plan.ts';
import { inTransaction, type Pool, type PoolClient, type Queryable } from '../../persistence/db.ts';
import {
  appendDesired,
  isConverged,
  latestDesired,
  loadSteps,
  observedOf,
  resetFailedSteps,
} from '../../persistence/repositories/provisioning.ts';
import {
  findTenantByAuthOrg,
  findTenantById,
  lockTenant,
  type Tenant,
  tenantClosedAt,
  upsertTenantBySlug,
} from '../../persistence/repositories/tenants.ts';
import { type ConvergeJob, scheduleConvergence } from './provisioning-jobs.ts';

// The ways a tenant's desired state changes: a new tenant (staff, or self-serve onboarding), a
// change to it, closing it, and an operator's replay of failed steps. Each writes the new desired
// version and the convergence job in one transaction, so a committed change always converges.

type Deps = { db: Pool; boss: Pick<PgBoss, 'send'> };

export type NewTenantRequest = {
  slug: string;
  name: string;
  time_zone: string;
  auth_org_id: string | null;
  forwarding_phone: string;
  twilio_number?: string | undefined;
  area_code?: string | undefined;
  plan?: DesiredState['plan'] | undefined;
  template?: DesiredState['template'] | undefined;
  ten_dlc?: DesiredState['ten_dlc'] | undefined;
};

/** The number asked for: a given one, else an area code, else the forwarding phone's area code. */
function numberWishOf(request: NewTenantRequest): DesiredState['number'] {
  if (request.twilio_number) return { kind: 'given', phone_number: request.twilio_number };
  if (request.area_code) return { kind: 'area_code', area_code: request.area_code };
  const fromForwarding = /^\+1([2-9]\d{2})/.exec(request.forwarding_phone)?.[1];
  if (!fromForwarding) {
    throw new AppError(
      'validation_failed',
      'give twilio_number or area_code (the forwarding phone is not a US number)',
    );
  }
  return { kind: 'area_code', area_code: fromForwarding };
}

export function desiredFromRequest(request: NewTenantRequest): DesiredState {
  return desiredStateSchema.parse({
    name: request.name,
    time_zone: request.time_zone,
    forwarding_phone: request.forwarding_phone,
    number: numberWishOf(request),
    plan: request.plan ?? null,
    ten_dlc: request.ten_dlc ?? null,
    template: request.template ?? 'plumbing',
    lifecycle: 'active',
  });
}

export async function provisionTenant(
  deps: Deps,
  request: NewTenantRequest,
  requestedBy: string,
): Promise<{ tenant: Tenant; version: number }> {
  return inTransaction(deps.db, (client) => provisionTenantIn(client, deps.boss, request, requestedBy));
}

/**
 * The same inside the caller's transaction: onboarding creates the tenant it was paid for
 * (`request.id`, chosen when the draft began) together with its owner and the draft's completion.
 */
export async function provisionTenantIn(
  client: PoolClient,
  boss: Deps['boss'],
  request: NewTenantRequest & { id?: string },
  requestedBy: string,
): Promise<{ tenant: Tenant; version: number }> {
  const spec = desiredFromRequest(request);
  if (request.auth_org_id !== null) {
    if (await findTenantByAuthOrg(client, request.auth_org_id))
      throw new AppError('conflict', 'this organisation already has a tenant');
  }
  const { tenant, created } = await upsertTenantBySlug(client, {
    id: request.id ?? randomUUID(),
    slug: request.slug,
    name: request.name,
    time_zone: request.time_zone,
    auth_org_id: request.auth_org_id,
    twilio_number: null,
    forwarding_phone: request.forwarding_phone,
  });
  if (!created) throw new AppError('conflict', `the slug ${request.slug} is taken`);
  const version = await appendDesired(client, tenant.id, spec, requestedBy);
  await scheduleConvergence(boss, tenant.id, undefined, client);
  return { tenant, version };
}

export type DesiredChange = Partial<Omit<DesiredState, 'lifecycle' | 'number'>> & {
  number?: DesiredState['number'];
};

/** Appends a new desired version (the latest one with `change` applied) and starts convergence. */
export async function changeDesired(
  deps: Deps,
  tenantId: string,
  change: DesiredChange & { lifecycle?: 'closed' },
  requestedBy: string,
): Promise<number> {
  return inTransaction(deps.db, async (client) => {
    if (!(await lockTenant(client, tenantId))) throw new AppError('not_found', 'no such tenant');
    const latest = await latestDesired(client, tenantId);
    if (!latest) throw new AppError('not_found', 'this tenant is not provisioned by convergence');
    if (latest.spec.lifecycle === 'closed') throw new AppError('conflict', 'the tenant is closed');
    const spec = desiredStateSchema.parse({ ...latest.spec, ...change });
    const version = await appendDesired(client, tenantId, spec, requestedBy);
    await scheduleConvergence(deps.boss, tenantId, undefined, client);
    return version;
  });
}

export function closeTenant(deps: Deps, tenantId: string, requestedBy: string): Promise<number> {
  return changeDesired(deps, tenantId, { lifecycle: 'closed' }, requestedBy);
}

/** An operator's replay: failed steps start over and a run is scheduled at once. */
export async function replayConvergence(deps: Deps, tenantId: string): Promise<number> {
  return inTransaction(deps.db, async (client) => {
    if (!(await latestDesired(client, tenantId)))
      throw new AppError('not_found', 'no such provisioned tenant');
    const reset = await resetFailedSteps(client, tenantId);
    await scheduleConvergence(deps.boss, tenantId, undefined, client);
    return reset;
  });
}

export type ProvisioningView = {
  tenant: Tenant & { closed_at: string | null };
  desired: { version: number; spec: DesiredState; converged: boolean } | null;
  steps: (StepView & { updated_at: string | null })[];
};

export async function provisioningView(
  db: Queryable,
  tenantId: string,
  webhookBaseUrl: string,
): Promise<ProvisioningView | null> {
  const tenant = await findTenantById(db, tenantId);
  if (!tenant) return null;
  const closedAt = await tenantClosedAt(db, tenantId);
  const desired = await latestDesired(db, tenantId);
  const stored = await loadSteps(db, tenantId);
  const converged = desired ? await isConverged(db, tenantId, desired.version) : false;
  const steps = desired
    ? describeSteps({ desired: desired.spec, observed: observedOf(stored), webhookBaseUrl }).map((view) => ({
        ...view,
        updated_at: stored.find((s) => s.step === view.step)?.updated_at ?? null,
      }))
    : [];
  return {
    tenant: { ...tenant, closed_at: closedAt?.toISOString() ?? null },
    desired: desired
      ? {
          version: desired.version,
          spec: desired.spec,
          converged,
        }
      : null,
    steps,
  };
}

export type { ConvergeJob };
