import type { Policy } from '../domain/policy.ts';
import type { Queryable } from '../persistence/db.ts';
import type { Service } from '../persistence/repositories/catalog.ts';
import type { PolicyRow } from '../persistence/repositories/scheduling/resources.ts';
import type { Tenant } from '../persistence/repositories/tenants.ts';
import type { BillingFacts } from './billing-gates.ts';

// Tenant-level facts kept per process: the tenant row, its policy, its active catalog, its billing
// facts (subscriptions and closing date, from which the feature gates follow), its scheduling
// rules. A copy is
// stamped with the tenant's facts version (tenant_facts_versions, bumped by trigger on every change
// to those rows, migration 0020) and used only by a transaction that read the same version, so a
// change is seen by the next event after its commit, whichever process made it. The version is
// read in the BEGIN round trip (inTransactionReading), so a hit costs no statement.

const NIL_TENANT = '00000000-0000-0000-0000-000000000000';
const VERSION_SQL =
  'SELECT coalesce(sum(version), 0)::bigint AS version FROM tenant_facts_versions WHERE tenant_id IN';
/** Tenants whose facts one process keeps; the least recently stored goes first. */
const MAX_TENANTS = 1_000;

export type TenantFacts = {
  tenant?: Tenant;
  policy?: Policy;
  services?: Service[];
  billing?: BillingFacts;
  /** The `scheduling.*` policy rows, platform's first (src/runtime/scheduling/scheduling-settings.ts). */
  schedulingPolicy?: PolicyRow[];
};

/** The facts one process holds for a tenant at the version just read, and where new ones go. */
export type HeldFacts = { known: TenantFacts; learn: (facts: TenantFacts) => void };

/** The fact held at this version, else what `read` finds, kept for the next event (nothing found is not kept). */
export async function heldOr<K extends keyof TenantFacts, R extends NonNullable<TenantFacts[K]> | null>(
  held: HeldFacts | undefined,
  key: K,
  read: () => Promise<R>,
): Promise<NonNullable<TenantFacts[K]> | R> {
  const known = held?.known[key];
  if (known !== undefined) return known as NonNullable<TenantFacts[K]>;
  const value = await read();
  if (value !== null) held?.learn({ [key]: value } as TenantFacts);
  return value;
}

export type TenantFactsCache = {
  /** The statement that reads the tenant's facts version (no parameters: see inTransactionReading). */
  versionSql(tenantId: string, escapeLiteral: (value: string) => string): string;
  /** The tenant's facts version now, outside a transaction (one statement). */
  readVersion(db: Queryable, tenantId: string): Promise<number>;
  /** The copy stamped with this version, or nothing. */
  get(tenantId: string, version: number): TenantFacts | undefined;
  /** Adds to the copy of this version (a copy of another version is replaced). */
  put(tenantId: string, version: number, facts: TenantFacts): void;
  /** `get` and `put` for one tenant at one version: the copy (empty when there is none) and its learner. */
  held(tenantId: string, version: number): HeldFacts;
};

export function createTenantFactsCache(): TenantFactsCache {
  const entries = new Map<string, { version: number; facts: TenantFacts }>();
  const cache: TenantFactsCache = {
    versionSql: (tenantId, escapeLiteral) =>
      `${VERSION_SQL} (${escapeLiteral(tenantId)}::uuid, '${NIL_TENANT}'::uuid)`,
    async readVersion(db, tenantId) {
      const { rows } = await db.query<{ version: number }>(
        `${VERSION_SQL} ($1::uuid, '${NIL_TENANT}'::uuid)`,
        [tenantId],
      );
      return Number(rows[0]?.version ?? 0);
    },
    get(tenantId, version) {
      const entry = entries.get(tenantId);
      return entry?.version === version ? entry.facts : undefined;
    },
    put(tenantId, version, facts) {
      const entry = entries.get(tenantId);
      if (entry?.version === version) {
        Object.assign(entry.facts, facts);
        return;
      }
      entries.delete(tenantId);
      entries.set(tenantId, { version, facts: { ...facts } });
      if (entries.size > MAX_TENANTS) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    held: (tenantId, version) => ({
      known: cache.get(tenantId, version) ?? {},
      learn: (facts) => cache.put(tenantId, version, facts),
    }),
  };
  return cache;
}
