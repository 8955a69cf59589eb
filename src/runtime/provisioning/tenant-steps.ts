import { randomUUID } from 'node:crypto';
import { TEMPLATE_CATALOGS } from '../../domain/provisioning/trade-templates.ts';
import { ensureService } from '../../persistence/repositories/catalog.ts';
import { EXPORT_TABLES, saveExport } from '../../persistence/repositories/provisioning.ts';
import { ensureResource } from '../../persistence/repositories/scheduling/resources.ts';
import {
  closeTenantRow,
  deleteTenantData,
  readTenantData,
  tenantClosedAt,
  updateTenantProfile,
} from '../../persistence/repositories/tenants.ts';
import { demoRowId } from '../../persistence/seed-demo-scheduling.ts';
import { DEFAULT_CLOSED_RETENTION_DAYS, type StepResult, type StepRun } from './provisioning-deps.ts';

// The steps that only touch our own tables: the tenant's profile, its starting catalog and hours,
// and on closing the data export, the end of sending and, after the retention period, deletion.

export async function applyProfile(run: StepRun): Promise<StepResult> {
  const { name, time_zone, forwarding_phone } = run.desired;
  return {
    status: 'done',
    outputs: {},
    commit: (client) => updateTenantProfile(client, run.tenantId, { name, time_zone, forwarding_phone }),
  };
}

/** Seeds the template's services and its bookable person; rows that exist are left as the owner made them. */
export async function seedCatalog(run: StepRun): Promise<StepResult> {
  const template = TEMPLATE_CATALOGS[run.desired.template];
  return {
    status: 'done',
    outputs: { template: run.desired.template },
    commit: async (client) => {
      for (const s of template.services) {
        await ensureService(client, run.tenantId, demoRowId(run.tenantId, s.key), {
          name: s.name,
          duration_minutes: s.duration_minutes,
          price: { amount_cents: s.price_cents, currency: 'USD' },
          aliases: s.aliases,
        });
      }
      await ensureResource(client, run.tenantId, demoRowId(run.tenantId, template.resource.key), {
        name: template.resource.name,
        time_zone: run.desired.time_zone,
        calendar_kind: 'internal',
        weekly_hours: template.resource.weekly_hours,
      });
    },
  };
}

/** A JSON archive of all the tenant's rows, table by table, kept for the owner before any deletion. */
export async function exportData(run: StepRun): Promise<StepResult> {
  const tables = await readTenantData(run.deps.db, run.tenantId, EXPORT_TABLES);
  const id = randomUUID();
  const archive = {
    format: 'nmc-tenant-export',
    version: 1,
    tenant_id: run.tenantId,
    exported_at: run.now,
    tables,
  };
  const counts = Object.fromEntries(Object.entries(tables).map(([t, rows]) => [t, rows.length]));
  return {
    status: 'done',
    outputs: { export_id: id, rows: counts },
    commit: (client) => saveExport(client, run.tenantId, id, archive),
  };
}

export async function stopSending(run: StepRun): Promise<StepResult> {
  return {
    status: 'done',
    outputs: {},
    commit: (client) => closeTenantRow(client, run.tenantId, run.now),
  };
}

/** Deletes the tenant's data once the retention period after closing has passed; waits until then. */
export async function purgeAfterRetention(run: StepRun): Promise<StepResult> {
  const closedAt = (await tenantClosedAt(run.deps.db, run.tenantId)) ?? run.now;
  const days = run.deps.closedRetentionDays ?? DEFAULT_CLOSED_RETENTION_DAYS;
  const due = new Date(closedAt.getTime() + days * 86_400_000);
  if (run.now < due) {
    return {
      status: 'waiting',
      outputs: { purge_at: due.toISOString() },
      reason: 'retention period',
      recheckAt: due,
    };
  }
  return {
    status: 'done',
    outputs: { purged_at: run.now.toISOString() },
    commit: (client) => deleteTenantData(client, run.tenantId),
  };
}
