import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { ALERT_REASONS, type AlertReason, URGENT_REASONS } from '../../domain/alert-reasons.ts';
import type { Logger } from '../../observability/logger.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { insertAlert } from '../../persistence/repositories/alerts.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { listAlertRecipients } from '../../persistence/repositories/user-alerts.ts';
import type { Subscriber } from '../outbox-dispatcher.ts';
import { planAlertRound, type Recipient, scheduleReminder } from './plan-alert-round.ts';

// Alerts reach people: on `OperatorAttentionNeeded` with one of the typed reasons, record an alert
// (the "needs attention" list) and text the team members who opted in, or the owner's forwarding
// phone when nobody has. The alert row, its texts' decisions, their send jobs and the first
// reminder commit together; a redelivered event finds its alert recorded and does nothing.
// A reason outside the catalog (an older event) raises nothing: texting people for every inbound
// message is what made alerts meaningless.

export type AlertDeps = { db: Pool; boss: PgBoss; publicBaseUrl: string; logger: Logger; now?: () => number };

function isAlertReason(value: unknown): value is AlertReason {
  return typeof value === 'string' && (ALERT_REASONS as readonly string[]).includes(value);
}

/** The opted-in team members; the owner's forwarding phone (no quiet hours) when there are none. */
export function recipientsOrOwner(opted: Recipient[], forwardingPhone: string | null): Recipient[] {
  if (opted.length > 0) return opted;
  return forwardingPhone ? [{ user_id: null, phone: forwardingPhone, quiet: null }] : [];
}

export function alertSubscriber(deps: AlertDeps): Subscriber {
  const now = deps.now ?? Date.now;
  return {
    name: 'alerts.raise',
    events: ['nmc.conversation.OperatorAttentionNeeded'],
    async handle(event) {
      const reason = event.payload.reason;
      const conversationId = event.payload.conversation_id;
      if (!isAlertReason(reason) || typeof conversationId !== 'string') return;
      await inTransaction(deps.db, async (client) => {
        const tenant = await findTenantById(client, event.tenant_id);
        if (!tenant) return;
        const alert = await insertAlert(client, {
          tenantId: tenant.id,
          id: randomUUID(),
          conversationId,
          reason,
          urgent: URGENT_REASONS.has(reason),
          sourceEventId: event.event_id,
          at: new Date(now()).toISOString(),
        });
        if (!alert) return;
        const policy = await loadPolicy(client, tenant.id);
        const recipients = recipientsOrOwner(
          await listAlertRecipients(client, tenant.id),
          tenant.forwarding_phone,
        );
        const at = now();
        const round = await planAlertRound(client, deps.boss, {
          tenant,
          alert,
          round: 0,
          recipients,
          policy,
          publicBaseUrl: deps.publicBaseUrl,
          now: at,
        });
        if (recipients.length > 0) {
          await scheduleReminder(client, deps.boss, {
            tenantId: tenant.id,
            alertId: alert.id,
            nextRound: 1,
            policy,
            now: at,
          });
        }
        deps.logger.info({ alert_id: alert.id, reason, urgent: alert.urgent, ...round }, 'alert raised');
      });
    },
  };
}
