import { REPORTED_EVENTS } from '../../domain/report-contributions.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import {
  clearReadModels,
  countJournal,
  journalMissing,
  lockReadModels,
  readJournal,
} from '../../persistence/repositories/reports.ts';
import { findTenantTimeZones } from '../../persistence/repositories/tenants.ts';
import { readRetainedEvents } from '../outbox.ts';
import { applyReportEvents } from './apply-report-events.ts';

// `nmc reports rebuild`: every read model recomputed from the events. First the retained outbox
// events the journal lacks are copied in (e.g. ones that were never delivered), then the read
// models are emptied and the whole journal is applied again through the same fold as the live
// subscriber. One transaction, holding the read models' lock exclusively: live updates wait and
// then apply on top, and a failed rebuild leaves the old numbers in place.

const PAGE = 1_000;

export type RebuildProgress = { phase: 'import' | 'apply'; done: number; total: number };

export async function rebuildReports(
  db: Pool,
  onProgress: (progress: RebuildProgress) => void = () => undefined,
): Promise<{ imported: number; applied: number }> {
  return inTransaction(db, async (tx) => {
    await lockReadModels(tx, 'exclusive');
    let imported = 0;
    let afterSeq = 0;
    for (;;) {
      const page = await readRetainedEvents(tx, { names: REPORTED_EVENTS, afterSeq, limit: PAGE });
      if (page.length === 0) break;
      imported += await journalMissing(
        tx,
        page.map((e) => ({
          tenant_id: e.tenant_id,
          event_id: e.event_id,
          event_name: e.event_name,
          occurred_at: e.occurred_at,
          payload: e.payload,
        })),
      );
      afterSeq = page.at(-1)?.seq ?? afterSeq;
      onProgress({ phase: 'import', done: imported, total: imported });
    }

    await clearReadModels(tx);
    const total = await countJournal(tx);
    let applied = 0;
    let after: { occurred_at: string; event_id: string } | null = null;
    onProgress({ phase: 'apply', done: 0, total });
    for (;;) {
      const page = await readJournal(tx, after, PAGE);
      if (page.length === 0) break;
      // A page at a time, like a live batch: a fixed number of statements per page.
      const zones = await findTenantTimeZones(
        tx,
        page.map((e) => e.tenant_id),
      );
      await applyReportEvents(tx, page, zones);
      applied += page.length;
      const last = page.at(-1) as { occurred_at: string; event_id: string };
      after = { occurred_at: last.occurred_at, event_id: last.event_id };
      onProgress({ phase: 'apply', done: applied, total });
    }
    return { imported, applied };
  });
}
