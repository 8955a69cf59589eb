import { QUEUES } from '../../src/runtime/job-queues.ts';
import type { System } from '../../src/system.ts';
import { waitFor } from './system.ts';

// "Nothing was sent" is only worth asserting once everything that could still send has run. A
// text leaves through one path: a transition (dispatch, or an outbox subscriber such as a campaign
// or gates change reaching the conversations) queues an outbound message row and its send job in
// one transaction, and the send worker calls the provider before it finishes the job. So when the
// tenant's outbox is drained, no send job of the tenant is waiting or running, and no outbound
// message of the tenant is still on its way to the provider (queued, or sending without a provider
// SID), every text the tenant was going to send has reached the provider (the sandbox) — and
// silence there is silence, not a slow machine.

/** Counts what could still make `tenantId` send a text; all zero when it has settled. */
async function pendingWork(system: System, tenantId: string) {
  const { rows } = await system.db.query<{ outbox: number; jobs: number; messages: number }>(
    `SELECT
       (SELECT count(*)::int FROM outbox_events WHERE tenant_id = $1 AND dispatched_at IS NULL) AS outbox,
       (SELECT count(*)::int FROM pgboss.job
         WHERE name = $2 AND data->>'tenant_id' = $1::text AND state IN ('created', 'retry', 'active')) AS jobs,
       (SELECT count(*)::int FROM conv_messages
         WHERE tenant_id = $1 AND direction = 'out' AND provider_sid IS NULL
           AND status IN ('queued', 'sending')) AS messages`,
    [tenantId, QUEUES.smsSend],
  );
  return rows[0] ?? { outbox: 0, jobs: 0, messages: 0 };
}

/**
 * Waits until the tenant's outbox is drained and its send queue is empty (up to `timeoutMs`; a
 * send stuck in a retry fails the wait rather than passing as silence).
 */
export async function waitUntilSendsSettled(system: System, tenantId: string, timeoutMs = 10_000) {
  let last = { outbox: 0, jobs: 0, messages: 0 };
  try {
    // Twice in a row: a subscriber may queue a send between one look at the outbox and the next.
    let clean = 0;
    await waitFor(async () => {
      last = await pendingWork(system, tenantId);
      clean = last.outbox + last.jobs + last.messages === 0 ? clean + 1 : 0;
      return clean >= 2;
    }, timeoutMs);
  } catch {
    throw new Error(`the tenant's sends did not settle within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }
}
