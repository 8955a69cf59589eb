import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { planAlertText, type QuietHours } from '../../domain/alert-delivery.ts';
import type { AlertReason } from '../../domain/alert-reasons.ts';
import { alertText } from '../../domain/alert-text.ts';
import type { Policy } from '../../domain/policy.ts';
import { zoneOf } from '../../domain/wall-time.ts';
import type { Queryable } from '../../persistence/db.ts';
import { type AlertRow, insertAlertText, priorTextsTo } from '../../persistence/repositories/alerts.ts';
import { latestConflictOfConversation } from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import type { Tenant } from '../../persistence/repositories/tenants.ts';
import { bossDb } from '../boss.ts';
import { QUEUES } from '../job-queues.ts';

// One round of an alert's texts (round 0 when it is raised, then each reminder): for every person,
// the pure rules decide whether the text leaves now, is held until their quiet hours end, or is
// skipped; each decision is a `conv_alert_texts` row, and each text that will leave gets its send
// job, all in the caller's transaction. Rate limits count the texts already decided for the same
// phone, so the per-phone lock below keeps two alerts at once from both taking the last slot.
// Recipients always come in phone order (their repository queries sort by phone), so two rounds
// take these locks in the same order and cannot deadlock.

export type AlertSendJob = { tenant_id: string; text_id: string; attempt: number };
export type AlertReminderJob = { tenant_id: string; alert_id: string; round: number };

export type Recipient = { user_id: string | null; phone: string; quiet: QuietHours | null };

const HOUR_MS = 3_600_000;

export function conversationLink(publicBaseUrl: string, conversationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/app/conversations/${conversationId}`;
}

export async function planAlertRound(
  client: Queryable,
  boss: PgBoss,
  input: {
    tenant: Tenant;
    alert: AlertRow;
    round: number;
    recipients: readonly Recipient[];
    policy: Policy;
    publicBaseUrl: string;
    now: number;
  },
): Promise<{ queued: number; skipped: number }> {
  const { tenant, alert, round, policy, now } = input;
  // An unknown zone is refused when the tenant is created; UTC keeps an alert from being lost anyway.
  const zone = zoneOf(tenant.time_zone) ?? zoneOf('UTC');
  if (!zone) throw new Error('no time zone data');
  // A calendar conflict's text names both times; they are the scheduling module's to tell.
  const conflict =
    alert.reason === 'calendar_conflict'
      ? await latestConflictOfConversation(client, tenant.id, alert.conversation_id)
      : null;
  const body = alertText({
    businessName: tenant.name,
    reason: alert.reason as AlertReason,
    link: conversationLink(input.publicBaseUrl, alert.conversation_id),
    reminder: round > 0,
    conflict: conflict && {
      appointment: { start: conflict.appointment_start, end: conflict.appointment_end },
      busy: { start: conflict.busy_start, end: conflict.busy_end },
      words: { timeZone: zone.name, now: new Date(now).toISOString() },
    },
  });
  const limits = {
    conversationWindowMs: policy['alerts.conversation_window_minutes'] * 60_000,
    hourlyCap: policy['alerts.hourly_cap'],
  };
  let queued = 0;
  let skipped = 0;
  for (const recipient of input.recipients) {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `alert-phone:${tenant.id}:${recipient.phone}`,
    ]);
    const prior = await priorTextsTo(
      client,
      tenant.id,
      recipient.phone,
      new Date(now - HOUR_MS - limits.conversationWindowMs).toISOString(),
    );
    const plan = planAlertText({
      now,
      zone,
      quiet: recipient.quiet,
      urgent: alert.urgent,
      reminder: round > 0,
      conversationId: alert.conversation_id,
      prior,
      limits,
    });
    const id = randomUUID();
    const sendAfter = new Date(plan.kind === 'send' ? plan.at : now);
    const inserted = await insertAlertText(client, {
      tenantId: tenant.id,
      id,
      alertId: alert.id,
      round,
      userId: recipient.user_id,
      toPhone: recipient.phone,
      conversationId: alert.conversation_id,
      urgent: alert.urgent,
      body,
      status: plan.kind === 'send' ? 'queued' : 'skipped',
      skipReason: plan.kind === 'skip' ? plan.reason : null,
      sendAfter: sendAfter.toISOString(),
    });
    if (!inserted) continue;
    if (plan.kind === 'skip') {
      skipped += 1;
      continue;
    }
    const job: AlertSendJob = { tenant_id: tenant.id, text_id: id, attempt: 1 };
    await boss.send(QUEUES.alertSend, job, {
      db: bossDb(client),
      ...(plan.at > now ? { startAfter: sendAfter } : {}),
    });
    queued += 1;
  }
  return { queued, skipped };
}

/** Schedules the next reminder while the policy allows one more. */
export async function scheduleReminder(
  client: Queryable,
  boss: PgBoss,
  input: { tenantId: string; alertId: string; nextRound: number; policy: Policy; now: number },
): Promise<boolean> {
  if (input.nextRound > input.policy['alerts.max_repeats']) return false;
  const job: AlertReminderJob = {
    tenant_id: input.tenantId,
    alert_id: input.alertId,
    round: input.nextRound,
  };
  await boss.send(QUEUES.alertReminder, job, {
    db: bossDb(client),
    startAfter: new Date(input.now + input.policy['alerts.repeat_minutes'] * 60_000),
  });
  return true;
}
