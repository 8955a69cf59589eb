import {
  type DesiredState,
  type DesiredVersion,
  desiredStateSchema,
} from '../../domain/provisioning/desired-state.ts';
import type { Observed, ObservedStep, StepStatus } from '../../domain/provisioning/plan.ts';
import { isStepName, type StepName, type StepOutputs } from '../../domain/provisioning/steps.ts';
import type { Queryable } from '../db.ts';

// The provisioning module's tables (prov_*): the versioned desired state of each tenant and the
// observed state of each convergence step. Claiming a step is a compare-and-set on its row_version.

export async function latestDesired(db: Queryable, tenantId: string): Promise<DesiredVersion | null> {
  const { rows } = await db.query<{ version: number; spec: unknown }>(
    'SELECT version, spec FROM prov_desired_states WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1',
    [tenantId],
  );
  const row = rows[0];
  return row ? { version: row.version, spec: desiredStateSchema.parse(row.spec) } : null;
}

/** Appends the next version (inside a transaction that holds the tenant: see lockTenantForProvisioning). */
export async function appendDesired(
  db: Queryable,
  tenantId: string,
  spec: DesiredState,
  requestedBy: string,
): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    `INSERT INTO prov_desired_states (tenant_id, version, spec, requested_by)
     SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM prov_desired_states WHERE tenant_id = $1
     RETURNING version`,
    [tenantId, JSON.stringify(spec), requestedBy],
  );
  const version = rows[0]?.version;
  if (version === undefined) throw new Error('desired state insert returned nothing');
  return version;
}

/** Marks a version converged once; true the first time. */
export async function markConverged(db: Queryable, tenantId: string, version: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE prov_desired_states SET converged_at = now()
     WHERE tenant_id = $1 AND version = $2 AND converged_at IS NULL`,
    [tenantId, version],
  );
  return rowCount === 1;
}

type StepRow = {
  step: string;
  status: StepStatus;
  fingerprint: string | null;
  desired_version: number;
  outputs: StepOutputs;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  row_version: number;
  updated_at: Date;
};

export type StoredStep = ObservedStep & { step: StepName; desired_version: number; updated_at: string };

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export async function loadSteps(db: Queryable, tenantId: string): Promise<StoredStep[]> {
  const { rows } = await db.query<StepRow>(
    `SELECT step, status, fingerprint, desired_version, outputs, attempts, last_error, next_attempt_at,
       lease_until, row_version, updated_at
     FROM prov_steps WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows
    .filter((r) => isStepName(r.step))
    .map((r) => ({
      step: r.step as StepName,
      status: r.status,
      fingerprint: r.fingerprint,
      desired_version: r.desired_version,
      outputs: r.outputs,
      attempts: r.attempts,
      last_error: r.last_error,
      next_attempt_at: iso(r.next_attempt_at),
      lease_until: iso(r.lease_until),
      row_version: r.row_version,
      updated_at: r.updated_at.toISOString(),
    }));
}

export function observedOf(steps: readonly StoredStep[]): Observed {
  const observed: Observed = {};
  for (const s of steps) observed[s.step] = s;
  return observed;
}

/**
 * Moves a step to `running` with a lease, only from the row version the plan was made from (0: no
 * row yet). Returns the attempt number, or null when someone else moved it first.
 */
export async function claimStep(
  db: Queryable,
  input: {
    tenantId: string;
    step: StepName;
    rowVersion: number;
    fingerprint: string;
    desiredVersion: number;
    again: boolean;
    leaseSeconds: number;
  },
): Promise<number | null> {
  if (input.rowVersion === 0) {
    const { rows } = await db.query<{ attempts: number }>(
      `INSERT INTO prov_steps (tenant_id, step, status, fingerprint, desired_version, attempts, lease_until, row_version)
       VALUES ($1, $2, 'running', $3, $4, 1, now() + make_interval(secs => $5), 1)
       ON CONFLICT (tenant_id, step) DO NOTHING RETURNING attempts`,
      [input.tenantId, input.step, input.fingerprint, input.desiredVersion, input.leaseSeconds],
    );
    return rows[0]?.attempts ?? null;
  }
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE prov_steps SET status = 'running', fingerprint = $3, desired_version = $4,
       attempts = CASE WHEN $6 THEN attempts + 1 ELSE 1 END,
       lease_until = now() + make_interval(secs => $5), row_version = row_version + 1, updated_at = now()
     WHERE tenant_id = $1 AND step = $2 AND row_version = $7
     RETURNING attempts`,
    [
      input.tenantId,
      input.step,
      input.fingerprint,
      input.desiredVersion,
      input.leaseSeconds,
      input.again,
      input.rowVersion,
    ],
  );
  return rows[0]?.attempts ?? null;
}

/** Records how a claimed step ended; false if the claim was lost meanwhile (lease over, taken again). */
export async function finishStep(
  db: Queryable,
  input: {
    tenantId: string;
    step: StepName;
    claimedVersion: number;
    status: Exclude<StepStatus, 'running'>;
    outputs: StepOutputs;
    lastError: string | null;
    nextAttemptAt: Date | null;
  },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE prov_steps SET status = $3, outputs = $4, last_error = $5, next_attempt_at = $6, lease_until = NULL,
       row_version = row_version + 1, updated_at = now()
     WHERE tenant_id = $1 AND step = $2 AND row_version = $7`,
    [
      input.tenantId,
      input.step,
      input.status,
      JSON.stringify(input.outputs),
      input.lastError,
      input.nextAttemptAt,
      input.claimedVersion,
    ],
  );
  return rowCount === 1;
}

/** An operator's replay: failed steps of the tenant start over (attempts from zero). */
export async function resetFailedSteps(db: Queryable, tenantId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE prov_steps SET status = 'pending', attempts = 0, last_error = NULL, next_attempt_at = NULL,
       row_version = row_version + 1, updated_at = now()
     WHERE tenant_id = $1 AND status = 'failed'`,
    [tenantId],
  );
  return rowCount ?? 0;
}

/** Forces a step to act again on its next convergence (a repair after drift). */
export async function invalidateStep(db: Queryable, tenantId: string, step: StepName): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE prov_steps SET status = 'pending', next_attempt_at = NULL, attempts = 0, row_version = row_version + 1,
       updated_at = now()
     WHERE tenant_id = $1 AND step = $2 AND status <> 'running'`,
    [tenantId, step],
  );
  return rowCount === 1;
}

export type FailedStep = {
  tenant_id: string;
  step: string;
  attempts: number;
  last_error: string | null;
  updated_at: Date;
};

/** Convergence's dead letters: every failed step across tenants, most recent first. */
export async function listFailedSteps(db: Queryable, limit: number): Promise<FailedStep[]> {
  const { rows } = await db.query<FailedStep>(
    `SELECT tenant_id, step, attempts, last_error, updated_at FROM prov_steps
     WHERE status = 'failed' ORDER BY updated_at DESC, tenant_id, step LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function listProvisionedTenantIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM prov_desired_states ORDER BY tenant_id',
  );
  return rows.map((r) => r.tenant_id);
}

export async function saveExport(
  db: Queryable,
  tenantId: string,
  id: string,
  archive: unknown,
): Promise<void> {
  await db.query(
    'INSERT INTO prov_exports (tenant_id, id, archive) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [tenantId, id, JSON.stringify(archive)],
  );
}

export async function latestExport(
  db: Queryable,
  tenantId: string,
): Promise<{ id: string; archive: unknown; created_at: Date } | null> {
  const { rows } = await db.query<{ id: string; archive: unknown; created_at: Date }>(
    'SELECT id, archive, created_at FROM prov_exports WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1',
    [tenantId],
  );
  return rows[0] ?? null;
}

export async function isConverged(db: Queryable, tenantId: string, version: number): Promise<boolean> {
  const { rows } = await db.query<{ converged: boolean }>(
    'SELECT converged_at IS NOT NULL AS converged FROM prov_desired_states WHERE tenant_id = $1 AND version = $2',
    [tenantId, version],
  );
  return rows[0]?.converged ?? false;
}

/** The tables whose rows are the export itself, left out of it. */
export const EXPORT_TABLES = ['prov_exports'] as const;
