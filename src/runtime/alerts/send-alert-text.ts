import type { PgBoss } from 'pg-boss';
import { backoffDelayMs, shouldDeadLetter } from '../../domain/backoff.ts';
import { sendBlockedBy } from '../../machines/send-guard.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import {
  claimAlertText,
  findAlert,
  findAlertText,
  finishAlertText,
  requeueAlertText,
} from '../../persistence/repositories/alerts.ts';
import { campaignStatus, isOptedOut } from '../../persistence/repositories/compliance.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { classifyTwilioError, sendSms, type TwilioClient } from '../../providers/twilio/client.ts';
import { bossDb } from '../boss.ts';
import type { GatesReader } from '../conversation-facts.ts';
import { QUEUES } from '../job-queues.ts';
import type { AlertSendJob } from './plan-alert-round.ts';

// The alert-text worker: one queued alert text → one Messages request through the same Twilio
// client as conversation texts, from the business number. Checked right before the call:
// - the alert is still open (an acknowledgement cancels texts that have not left);
// - the conversation send guard, as for an operator's text: the 10DLC campaign is approved (all
//   traffic from the business number is A2P), the person has not opted out of the business number,
//   and the subscription's SMS gate is open.
// Provider failures retry with the same backoff and attempt limit as conversation texts, then the
// text is failed and its job dead-lettered. Alert texts carry no status callback: nothing waits on
// their delivery; an accepted text is `sent`. Unlike a customer's text, a retry after an ambiguous
// failure (a timeout) does not ask Twilio first: a second copy of an alert to a team member is the
// lesser harm than an alert that never arrives.

export type AlertSenderDeps = {
  db: Pool;
  boss: PgBoss;
  twilio: TwilioClient;
  readGates: GatesReader;
  logger: Logger;
  metrics?: Metrics;
  random?: () => number;
};

export type AlertSendOutcome = 'sent' | 'skipped' | 'cancelled' | 'blocked' | 'retry_scheduled' | 'failed';

export function createAlertSender(deps: AlertSenderDeps): (job: AlertSendJob) => Promise<AlertSendOutcome> {
  const random = deps.random ?? Math.random;

  return async function send(job: AlertSendJob): Promise<AlertSendOutcome> {
    const text = await findAlertText(deps.db, job.tenant_id, job.text_id);
    if (!text || (text.status !== 'queued' && text.status !== 'sending')) return 'skipped';
    const alert = await findAlert(deps.db, text.tenant_id, text.alert_id);
    if (alert?.state !== 'open') {
      await finishAlertText(deps.db, text.tenant_id, text.id, {
        status: 'cancelled',
        reason: 'acknowledged',
      });
      return 'cancelled';
    }
    const tenant = await findTenantById(deps.db, text.tenant_id);
    if (!tenant?.twilio_number) {
      await finishAlertText(deps.db, text.tenant_id, text.id, {
        status: 'failed',
        reason: 'no_sender_number',
      });
      return 'failed';
    }
    const blockedBy = sendBlockedBy('operator', {
      campaignStatus: await campaignStatus(deps.db, tenant.id),
      optedOut: await isOptedOut(deps.db, tenant.id, text.to_phone),
      gates: await deps.readGates(deps.db, tenant.id, new Date().toISOString()),
    });
    if (blockedBy !== null) {
      await finishAlertText(deps.db, tenant.id, text.id, { status: 'failed', reason: blockedBy });
      deps.metrics?.smsSent.labels({ outcome: 'blocked' }).inc();
      return 'blocked';
    }
    const claimed = await claimAlertText(deps.db, tenant.id, text.id, job.attempt);
    if (!claimed) return 'skipped';
    try {
      const result = await sendSms(deps.twilio, {
        from: tenant.twilio_number,
        to: text.to_phone,
        body: text.body,
      });
      await finishAlertText(deps.db, tenant.id, text.id, { status: 'sent', providerSid: result.sid });
      deps.metrics?.smsSent.labels({ outcome: 'accepted' }).inc();
      return 'sent';
    } catch (err) {
      const failure = classifyTwilioError(err);
      deps.logger.warn(
        { alert_text_id: text.id, kind: failure.kind, code: failure.code, attempt: job.attempt },
        'alert text send failed',
      );
      deps.metrics?.smsSent.labels({ outcome: failure.kind }).inc();
      return inTransaction(deps.db, async (tx) => {
        if (failure.kind !== 'retryable') {
          await finishAlertText(tx, tenant.id, text.id, {
            status: 'failed',
            reason: failure.kind === 'opted_out' ? 'opted_out_at_carrier' : 'rejected_by_provider',
          });
          return 'failed' as const;
        }
        const maxAttempts = (await loadPolicy(tx, tenant.id))['sms.max_attempts'];
        if (shouldDeadLetter(job.attempt, maxAttempts)) {
          await finishAlertText(tx, tenant.id, text.id, { status: 'failed', reason: 'retries_exhausted' });
          await deps.boss.send(QUEUES.alertSendDead, job, { db: bossDb(tx) });
          return 'failed' as const;
        }
        await requeueAlertText(
          tx,
          tenant.id,
          text.id,
          `provider_${failure.code ?? failure.status ?? 'error'}`,
        );
        await deps.boss.send(
          QUEUES.alertSend,
          { ...job, attempt: job.attempt + 1 },
          { db: bossDb(tx), startAfter: new Date(Date.now() + backoffDelayMs(job.attempt - 1, random)) },
        );
        return 'retry_scheduled' as const;
      });
    }
  };
}
