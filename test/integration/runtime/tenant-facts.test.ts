import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listServices } from '../../../src/persistence/repositories/catalog.ts';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import { seedDemo } from '../../../src/persistence/seed-demo.ts';
import { readGatesFromBilling } from '../../../src/runtime/billing-gates.ts';
import { answerBookingRequest } from '../../../src/runtime/booking-requests.ts';
import { createDispatch, type Dispatch } from '../../../src/runtime/dispatch.ts';
import {
  createTenantFactsCache,
  type TenantFacts,
  type TenantFactsCache,
} from '../../../src/runtime/tenant-facts.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { dispatchMissedCall, startBossForTests } from '../../helpers/engine.ts';
import { recordStatements } from '../../helpers/statements.ts';

// The tenant-level facts kept between events (src/runtime/tenant-facts.ts, migration 0020) against
// real Postgres: a second event reads none of them again, and any change to them — by any path,
// here plain SQL beside the repositories — reaches the very next event.

let database: TestDatabase;
let boss: PgBoss;
let tenant: Tenant;
let cache: TenantFactsCache;
let dispatch: Dispatch;
let statements: string[] | null = null;

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await seedDemo(database.pool);
  boss = await startBossForTests(database.url);
  cache = createTenantFactsCache();
  dispatch = createDispatch({ db: database.pool, boss, readGates: readGatesFromBilling, tenantFacts: cache });
  recordStatements(database.pool, (sql) => statements?.push(sql));
});
afterEach(() => {
  statements = null;
});
afterAll(async () => {
  await boss?.stop({ graceful: false });
  await database?.drop();
});

let callerSeq = 0;
async function greetingAfterMissedCall(): Promise<string> {
  callerSeq += 1;
  const result = await dispatchMissedCall(
    dispatch,
    tenant.id,
    `+1310555${String(7000 + callerSeq).padStart(4, '0')}`,
  );
  const { rows } = await database.pool.query<{ body: string }>(
    'SELECT body FROM conv_messages WHERE tenant_id = $1 AND id = $2',
    [tenant.id, result.messageIds[0]],
  );
  return rows[0]?.body ?? '';
}

async function factsVersion(): Promise<number> {
  const { rows } = await database.pool.query<{ version: number }>(
    cache.versionSql(tenant.id, (value) => `'${value}'`),
  );
  return Number(rows[0]?.version ?? 0);
}

const tenantLevelReads = () =>
  (statements ?? []).filter((sql) =>
    /FROM policy_values|SELECT id, slug, name|FROM bill_subscriptions|SELECT closed_at/.test(sql),
  );

describe('tenant facts kept between events', () => {
  it('a second event reads neither the tenant row, its policy nor its billing facts again', async () => {
    await greetingAfterMissedCall();
    statements = [];
    await greetingAfterMissedCall();
    expect(tenantLevelReads()).toEqual([]);
  });

  it('a change to the tenant row, by plain SQL, reaches the very next event', async () => {
    await greetingAfterMissedCall();
    await database.pool.query('UPDATE id_tenants SET name = $2 WHERE id = $1', [
      tenant.id,
      'Renamed Plumbing',
    ]);
    expect(await greetingAfterMissedCall()).toContain('Renamed Plumbing');
    await database.pool.query('UPDATE id_tenants SET name = $2 WHERE id = $1', [tenant.id, tenant.name]);
    expect(await greetingAfterMissedCall()).toContain(tenant.name);
  });

  it('a subscription or a closing, written by plain SQL, closes the gates for the very next event', async () => {
    expect(await greetingAfterMissedCall()).not.toBe('');
    await database.pool.query(
      `INSERT INTO bill_subscriptions (tenant_id, stripe_subscription_id, plan, status, stripe_created, stripe_event_created)
       VALUES ($1, 'sub_factsversion', 'starter', 'canceled', 1, 1)`,
      [tenant.id],
    );
    expect(await greetingAfterMissedCall()).toBe(''); // no text: the gates are closed
    await database.pool.query('DELETE FROM bill_subscriptions WHERE tenant_id = $1', [tenant.id]);
    expect(await greetingAfterMissedCall()).not.toBe('');
    await database.pool.query('UPDATE id_tenants SET closed_at = now() WHERE id = $1', [tenant.id]);
    expect(await greetingAfterMissedCall()).toBe('');
    await database.pool.query('UPDATE id_tenants SET closed_at = NULL WHERE id = $1', [tenant.id]);
    expect(await greetingAfterMissedCall()).not.toBe('');
  });

  it('tenant and platform policy values and catalog rows each move the version; other events do not', async () => {
    let version = await factsVersion();
    const moved = async () => {
      const next = await factsVersion();
      const changed = next !== version;
      version = next;
      return changed;
    };
    await setPolicyValue(database.pool, tenant.id, 'conversation.max_misunderstandings', 4);
    expect(await moved()).toBe(true);
    await setPolicyValue(database.pool, null, 'conversation.max_misunderstandings', 3);
    expect(await moved()).toBe(true);
    await database.pool.query(
      `INSERT INTO catalog_services (tenant_id, id, name, duration_minutes, price_cents, currency)
       VALUES ($1, $2, 'Water heater flush', 60, 12000, 'USD')`,
      [tenant.id, randomUUID()],
    );
    expect(await moved()).toBe(true);
    await database.pool.query('DELETE FROM policy_values WHERE tenant_id = $1', [tenant.id]);
    expect(await moved()).toBe(true);
    // Nothing tenant-level changed: the version stays.
    await greetingAfterMissedCall();
    expect(await moved()).toBe(false);
    statements = [];
    await greetingAfterMissedCall();
    expect(tenantLevelReads()).toEqual([]);
  });

  it("the booking dialogue's offer takes the scheduling rules and the service from the facts held", async () => {
    const { rows } = await database.pool.query<{ id: string }>(
      'SELECT id FROM catalog_services WHERE tenant_id = $1 AND active ORDER BY name LIMIT 1',
      [tenant.id],
    );
    const serviceId = rows[0]?.id as string;
    const offer = async (facts: { known: TenantFacts; learn: (f: TenantFacts) => void }) => {
      const client = await database.pool.connect();
      try {
        return await answerBookingRequest(
          { type: 'findSlots', serviceId },
          {
            client,
            boss,
            tenant,
            conversationId: randomUUID(),
            at: new Date().toISOString(),
            holdTtlMinutes: 15,
            trace: { correlationId: 'test', causationId: null },
            facts,
          },
        );
      } finally {
        client.release();
      }
    };
    const known: TenantFacts = {};
    const learnt: TenantFacts = {};
    await offer({ known, learn: (f) => Object.assign(learnt, f) });
    expect(learnt.schedulingPolicy).toBeDefined();

    const held: TenantFacts = {
      schedulingPolicy: learnt.schedulingPolicy ?? [],
      services: await listServices(database.pool, tenant.id, { activeOnly: true }),
    };
    statements = [];
    expect(await offer({ known: held, learn: () => undefined })).toMatchObject({
      type: 'SlotsFound',
      serviceId,
    });
    expect(statements.filter((sql) => /FROM policy_values|FROM catalog_services/.test(sql))).toEqual([]);
  });
});
