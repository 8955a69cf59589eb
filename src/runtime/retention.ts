import type { Policy } from '../domain/policy.ts';
import type { Pool, Queryable } from '../persistence/db.ts';
import { purgeCallsBefore } from '../persistence/repositories/calls.ts';
import {
  purgeAppliedEventsBefore,
  purgeClosedConversationsBefore,
} from '../persistence/repositories/conversations.ts';
import {
  purgeDispatchedOutboxBefore,
  purgeExpiredIdempotencyKeys,
  purgeWebhookEventsBefore,
} from '../persistence/repositories/housekeeping.ts';
import { purgeMessagesBefore } from '../persistence/repositories/messages.ts';
import {
  purgeReportAppointmentsBefore,
  purgeReportConversationsBefore,
  purgeReportFunnelDaysBefore,
  purgeReportJournalBefore,
  purgeReportResponseDaysBefore,
} from '../persistence/repositories/reports.ts';

// Retention, run by a scheduled pg-boss job: each rule deletes in small batches, each batch one
// short statement (no long locks, no long transactions), until nothing past its period is left.
// Periods come from policy (defaults: messages 180 days, conversation and call metadata 13 months,
// webhook dedupe 90 days, dispatched outbox rows 30 days, idempotency keys when expired, reports
// 25 months), platform-wide, since retention is a platform promise. `now` is passed in, so tests inject the clock.

export const RETENTION_BATCH = 500;
const DAY_MS = 86_400_000;

type Rule = {
  name: string;
  days: (policy: Policy) => number;
  purge: (db: Queryable, cutoff: Date, batch: number) => Promise<number>;
};

function reportRule(name: string, purge: Rule['purge']): Rule {
  return { name, days: (p) => p['retention.reports_days'], purge };
}

const RULES: Rule[] = [
  { name: 'messages', days: (p) => p['retention.messages_days'], purge: purgeMessagesBefore },
  { name: 'calls', days: (p) => p['retention.metadata_days'], purge: purgeCallsBefore },
  // Closed conversations last active before the period (their remaining messages go with them).
  { name: 'conversations', days: (p) => p['retention.metadata_days'], purge: purgeClosedConversationsBefore },
  {
    name: 'applied_events',
    days: (p) => p['retention.webhook_events_days'],
    purge: purgeAppliedEventsBefore,
  },
  {
    name: 'webhook_events',
    days: (p) => p['retention.webhook_events_days'],
    purge: purgeWebhookEventsBefore,
  },
  { name: 'outbox', days: (p) => p['retention.outbox_days'], purge: purgeDispatchedOutboxBefore },
  { name: 'idempotency_keys', days: () => 0, purge: purgeExpiredIdempotencyKeys },
  // The reports in this order: fact rows, then the journal events no retained fact names, then the
  // days no retained fact contributes to (docs/reports.md).
  reportRule('report_conversations', purgeReportConversationsBefore),
  reportRule('report_appointments', purgeReportAppointmentsBefore),
  reportRule('report_events', purgeReportJournalBefore),
  reportRule('report_funnel_days', purgeReportFunnelDaysBefore),
  reportRule('report_first_response_days', purgeReportResponseDaysBefore),
];

export async function runRetention(db: Pool, policy: Policy, now: Date): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const rule of RULES) {
    const cutoff = new Date(now.getTime() - rule.days(policy) * DAY_MS);
    let total = 0;
    for (;;) {
      const count = await rule.purge(db, cutoff, RETENTION_BATCH);
      total += count;
      if (count < RETENTION_BATCH) break;
    }
    removed[rule.name] = total;
  }
  return removed;
}
