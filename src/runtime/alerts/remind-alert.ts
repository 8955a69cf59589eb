import { inTransaction } from '../../persistence/db.ts';
import { findAlert, firstRoundRecipients } from '../../persistence/repositories/alerts.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import { listAlertRecipients } from '../../persistence/repositories/user-alerts.ts';
import { type AlertReminderJob, planAlertRound, scheduleReminder } from './plan-alert-round.ts';
import type { AlertDeps } from './raise-alert.ts';

// A reminder while an alert is not acknowledged: the people its first round was for are texted
// again (through the same quiet-hour and rate-limit rules), and the next reminder is scheduled
// until `alerts.max_repeats`. Once acknowledged, a reminder does nothing and schedules nothing.

export function createAlertReminder(deps: Omit<AlertDeps, 'logger'>) {
  const now = deps.now ?? Date.now;
  return async function remind(job: AlertReminderJob): Promise<'acknowledged' | 'reminded' | 'gone'> {
    return inTransaction(deps.db, async (client) => {
      const alert = await findAlert(client, job.tenant_id, job.alert_id);
      const tenant = alert ? await findTenantById(client, job.tenant_id) : null;
      if (!alert || !tenant) return 'gone';
      if (alert.state !== 'open') return 'acknowledged';
      const policy = await loadPolicy(client, tenant.id);
      // Settings are read as they are now: a member who opted out since gets no reminder, and changed
      // quiet hours count. The owner's forwarding phone (no user) has no settings to change.
      const current = new Map((await listAlertRecipients(client, tenant.id)).map((r) => [r.phone, r]));
      const recipients = (await firstRoundRecipients(client, tenant.id, alert.id)).flatMap((r) => {
        if (r.user_id === null) return [{ ...r, quiet: null }];
        const member = current.get(r.phone);
        return member ? [member] : [];
      });
      const at = now();
      await planAlertRound(client, deps.boss, {
        tenant,
        alert,
        round: job.round,
        recipients,
        policy,
        publicBaseUrl: deps.publicBaseUrl,
        now: at,
      });
      await scheduleReminder(client, deps.boss, {
        tenantId: tenant.id,
        alertId: alert.id,
        nextRound: job.round + 1,
        policy,
        now: at,
      });
      return 'reminded';
    });
  };
}
