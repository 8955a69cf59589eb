import { REPORTED_EVENTS } from '../../domain/report-contributions.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { journalEvent, lockReadModels } from '../../persistence/repositories/reports.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';
import { applyReportEvent } from './apply-report-event.ts';

// The reporting module's subscriber: every counted event is journalled and folded into the rep_*
// read models in one transaction. The journal's key makes a redelivered event count once; the
// merges make the order of arrival irrelevant. Days are the tenant's local days.

export function reportSubscriber(db: Pool): Subscriber {
  return {
    name: 'reports',
    events: REPORTED_EVENTS,
    handle: async (event) => {
      await inTransaction(db, async (tx) => {
        await lockReadModels(tx, 'shared');
        const journalled = {
          tenant_id: event.tenant_id,
          event_id: event.event_id,
          event_name: event.event_name,
          occurred_at: event.occurred_at,
          payload: event.payload,
        };
        if (!(await journalEvent(tx, journalled))) return;
        const tenant = await findTenantById(tx, event.tenant_id);
        if (tenant === null) return;
        await applyReportEvent(tx, journalled, tenant.time_zone);
      });
    },
  };
}
