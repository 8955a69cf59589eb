import { AppError } from '../../domain/errors.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { listUnmarkedEnded } from '../../persistence/repositories/scheduling/appointments.ts';
import { markAppointmentOutcome } from './mark-outcome.ts';

// The sweep (every few minutes): an appointment whose end passed `outcomes.auto_complete_minutes`
// ago (policy, default 4 h; null = never) with no outcome becomes completed, through the same
// markAppointmentOutcome as an operator's mark, so it writes the same OutcomeMarked event. It never
// overrides a mark someone made meanwhile, and a cancelled appointment is left alone. Only the last
// 30 days are looked at: older unmarked appointments predate the sweep or its policy.

const LOOKBACK_MS = 30 * 24 * 3_600_000;

export async function completePastAppointments(
  db: Pool,
  nowMs: number,
  limit = 500,
): Promise<{ completed: number }> {
  const now = new Date(nowMs).toISOString();
  const candidates = await listUnmarkedEnded(db, {
    endedBefore: now,
    since: new Date(nowMs - LOOKBACK_MS).toISOString(),
    limit,
  });
  const delays = new Map<string, number | null>();
  let completed = 0;
  for (const candidate of candidates) {
    if (!delays.has(candidate.tenant_id)) {
      delays.set(
        candidate.tenant_id,
        (await loadPolicy(db, candidate.tenant_id))['outcomes.auto_complete_minutes'],
      );
    }
    const delay = delays.get(candidate.tenant_id);
    if (delay === null || delay === undefined) continue;
    if (Date.parse(candidate.end) + delay * 60_000 > nowMs) continue;
    try {
      const marked = await inTransaction(db, (tx) =>
        markAppointmentOutcome(tx, {
          tenantId: candidate.tenant_id,
          appointmentId: candidate.id,
          outcome: 'completed',
          now,
          onlyIfUnmarked: true,
          trace: { correlationId: `auto-complete:${candidate.id}`, causationId: null },
        }),
      );
      if (marked.status === 'completed') completed += 1;
    } catch (err) {
      // Cancelled between the listing and the mark: nothing to complete.
      if (!(err instanceof AppError)) throw err;
    }
  }
  return { completed };
}
