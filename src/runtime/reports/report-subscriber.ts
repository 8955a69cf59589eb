import type { EventEnvelope } from '../../domain/event-catalog.ts';
import { REPORTED_EVENTS } from '../../domain/report-contributions.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { journalEvents, journalKey, lockReadModels } from '../../persistence/repositories/reports.ts';
import { findTenantTimeZones } from '../../persistence/repositories/tenants.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';
import { applyReportEvents } from './apply-report-events.ts';

// The reporting module's subscriber: the counted events of an outbox batch are journalled and
// folded into the rep_* read models in one transaction of a fixed number of statements. The
// journal's key makes a redelivered event count once; the merges make the order of arrival
// irrelevant. Days are the tenant's local days. `handle` is a batch of one: the dispatcher falls
// back to it, event by event, when a batch fails, so a bad event fails alone.

export function reportSubscriber(db: Pool): Subscriber {
  const handleBatch = async (events: readonly EventEnvelope[]): Promise<void> => {
    await inTransaction(db, async (tx) => {
      await lockReadModels(tx, 'shared');
      const journalled = events.map((e) => ({
        tenant_id: e.tenant_id,
        event_id: e.event_id,
        event_name: e.event_name,
        occurred_at: e.occurred_at,
        payload: e.payload,
      }));
      const fresh = await journalEvents(tx, journalled);
      // `delete`: an event given twice in one batch counts once too.
      const counted = journalled.filter((e) => fresh.delete(journalKey(e)));
      if (counted.length === 0) return;
      const zones = await findTenantTimeZones(
        tx,
        counted.map((e) => e.tenant_id),
      );
      await applyReportEvents(tx, counted, zones);
    });
  };
  return {
    name: 'reports',
    events: REPORTED_EVENTS,
    handle: (event) => handleBatch([event]),
    handleBatch,
  };
}
