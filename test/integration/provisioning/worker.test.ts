import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSteps } from '../../../src/persistence/repositories/provisioning.ts';
import { provisionTenant } from '../../../src/runtime/provisioning/provision-tenant.ts';
import { startProvisioningWorkers } from '../../../src/runtime/provisioning/provisioning-workers.ts';
import { type ProvisioningHarness, startProvisioningHarness } from '../../helpers/provisioning.ts';
import { waitFor } from '../../helpers/system.ts';

// The convergence worker on its own: a run that has to wait (a review at the provider, a backoff)
// schedules a deferred job, and that job runs when it falls due, without anything else waking it.

let h: ProvisioningHarness;
let workers: { stop(): Promise<void> };
beforeAll(async () => {
  h = await startProvisioningHarness();
  workers = await startProvisioningWorkers(h.boss, { ...h.deps, reviewPollMs: 500 });
});
afterAll(async () => {
  await workers?.stop();
  await h?.stop();
});

describe('the convergence worker', () => {
  it('waits out a brand review and a 500 through deferred runs, then converges', async () => {
    h.twilio.setReviewDelay(1_500);
    h.twilio.failOn({ method: 'POST', path: /\/IncomingPhoneNumbers\.json$/ }, { status: 500 });
    const { tenant } = await provisionTenant(
      h.deps,
      {
        slug: 'deferred-runs',
        name: 'Deferred Runs',
        time_zone: 'America/Denver',
        auth_org_id: null,
        forwarding_phone: '+13035550100',
      },
      'test',
    );
    const steps = await waitFor(async () => {
      const rows = await loadSteps(h.database.pool, tenant.id);
      return rows.length === 9 && rows.every((s) => s.status === 'done') ? rows : null;
    }, 15_000);
    expect(steps.find((s) => s.step === 'phone_number')?.attempts).toBe(2);
    const waited = await h.database.pool.query(
      `SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND event_name = 'nmc.provisioning.StepChanged'
         AND payload->>'status' = 'waiting'`,
      [tenant.id],
    );
    expect(waited.rows[0].n).toBeGreaterThan(0);
  });
});
