import type { PgBoss } from 'pg-boss';
import { backoffDelayMs, shouldDeadLetter } from '../domain/backoff.ts';
import type { SendPurpose } from '../machines/conversation-events.ts';
import { sendBlockedBy } from '../machines/send-guard.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { inSpan } from '../observability/tracing.ts';
import { inTransaction, type Pool, type Queryable } from '../persistence/db.ts';
import { complianceFacts, recordOptOut } from '../persistence/repositories/compliance.ts';
import { lockConversation } from '../persistence/repositories/conversations.ts';
import {
  advanceMessageStatus,
  cloneOutboundMessage,
  findMessage,
  findMessageWithCaller,
  type MessageRow,
  recordProviderSidSql,
  recordSendAttempt,
} from '../persistence/repositories/messages.ts';
import { loadPolicy } from '../persistence/repositories/policy-values.ts';
import { findTenantById } from '../persistence/repositories/tenants.ts';
import {
  classifyTwilioError,
  findSentMessage,
  sendSms,
  type TwilioClient,
} from '../providers/twilio/client.ts';
import { bossDb } from './boss.ts';
import type { GatesReader } from './conversation-facts.ts';
import type { Dispatch } from './dispatch.ts';
import { QUEUES } from './job-queues.ts';
import { advanceMessageStatusWithEvent } from './message-status-event.ts';
import { changeWithOutboxEvent } from './outbox.ts';
import { STATUS_POLL_DELAY_MS } from './poll-sms-status.ts';
import { createTenantFactsCache, heldOr, type TenantFactsCache } from './tenant-facts.ts';

// The send worker: one queued outbound message → one Messages request through the real Twilio SDK.
//
// - The guards are checked again right before the call (campaign approved, caller not opted out,
//   feature gates): a gate that now says no fails the message with the reason and calls nobody.
// - Provider failures: 429/5xx/timeouts retry with full-jitter backoff as new jobs, at most
//   `sms.max_attempts` (6) attempts, then the message is failed and the job goes to the dead-letter
//   queue (replayable); 21610 records a carrier opt-out; other 4xx fail at once.
// - An ambiguous failure (a timeout or a reset after the request may have left: Twilio may have
//   accepted it) schedules its retry with `check_provider: true`; that retry first lists the caller's
//   messages at Twilio (same To and From, since the message was created minus a minute) and, if one
//   has the same body, records its SID instead of sending again.
// - A worker killed mid-send does not lose the message: its job expires and pg-boss hands it to
//   another worker. That rerun sees the message already claimed by its own attempt (`sending`,
//   attempts = job.attempt, no SID) and checks Twilio the same way before sending. What is left is
//   the gap between Twilio accepting and its list showing the message. A message that already has a
//   SID or a later status is never sent again.

export type SendJob = {
  tenant_id: string;
  message_id: string;
  attempt: number;
  /** The previous attempt ended ambiguously: ask Twilio whether the message exists before sending. */
  check_provider?: boolean;
};

/** How far before the message's creation the provider check looks (clock skew with Twilio). */
const PROVIDER_CHECK_SKEW_MS = 60_000;

export type SmsSenderDeps = {
  db: Pool;
  boss: PgBoss;
  twilio: TwilioClient;
  publicBaseUrl: string;
  readGates: GatesReader;
  /** To block the conversation when the carrier reports the caller unsubscribed (21610). */
  dispatch: Dispatch;
  logger: Logger;
  metrics?: Metrics;
  /** Overrides the `sms.max_attempts` policy (6 by default). */
  maxAttempts?: number;
  random?: () => number;
  /** The tenant-level facts kept between sends (one per process, shared with dispatch). */
  tenantFacts?: TenantFactsCache;
};

export type SendOutcome = 'sent' | 'skipped' | 'blocked' | 'retry_scheduled' | 'failed' | 'dead_lettered';

export function createSmsSender(deps: SmsSenderDeps): (job: SendJob) => Promise<SendOutcome> {
  const random = deps.random ?? Math.random;
  const tenantFacts = deps.tenantFacts ?? createTenantFactsCache();

  // One statement (the status and its event together): atomic alone, or part of the caller's
  // transaction when it passes one.
  async function fail(
    db: Queryable,
    message: MessageRow,
    reason: string,
    errorCode: string | null,
  ): Promise<void> {
    await advanceMessageStatusWithEvent(
      db,
      { tenantId: message.tenant_id, id: message.id, status: 'failed', failureReason: reason, errorCode },
      { correlationId: message.id, causationId: null },
    );
  }

  return async function send(job: SendJob): Promise<SendOutcome> {
    // Two round trips: the message with its caller beside the tenant's facts version, then side by
    // side (each module's own read) the campaign and opt-out, and what this process does not hold
    // at that version of the sending number and the gates (src/runtime/tenant-facts.ts).
    const [found, factsVersion] = await Promise.all([
      findMessageWithCaller(deps.db, job.tenant_id, job.message_id),
      tenantFacts.readVersion(deps.db, job.tenant_id),
    ]);
    const message = found?.message;
    // Already sent (SID recorded or a later status), or unknown: nothing to do, idempotently.
    if (!found || message?.direction !== 'out' || message.provider_sid !== null) return 'skipped';
    if (message.status !== 'queued' && message.status !== 'sending') return 'skipped';

    const { caller } = found;
    const now = new Date().toISOString();
    const held = tenantFacts.held(message.tenant_id, factsVersion);
    const [tenantRow, compliance, gates] = caller
      ? await Promise.all([
          heldOr(held, 'tenant', () => findTenantById(deps.db, message.tenant_id)),
          complianceFacts(deps.db, message.tenant_id, caller),
          deps.readGates(deps.db, message.tenant_id, now, held),
        ])
      : [null, null, null];
    const senderNumber = tenantRow?.twilio_number;
    if (!caller || !senderNumber || !compliance || !gates) {
      await fail(deps.db, message, 'no_sender_number', null);
      return 'failed';
    }
    const tenant = { id: message.tenant_id, twilio_number: senderNumber };

    const purpose = (message.purpose ?? 'assistant') as SendPurpose;
    const blockedBy = sendBlockedBy(purpose, { ...compliance, gates });
    if (blockedBy !== null) {
      await fail(deps.db, message, blockedBy, null);
      deps.metrics?.smsSent.labels({ outcome: 'blocked' }).inc();
      return 'blocked';
    }

    // The previous attempt may have reached Twilio: told so by the failed attempt, or this very attempt
    // already claimed the message and its worker died (pg-boss handed the job out again).
    const checkProvider =
      job.check_provider === true || (message.status === 'sending' && message.attempts >= job.attempt);

    const sending = await advanceMessageStatus(deps.db, {
      tenantId: tenant.id,
      id: message.id,
      status: 'sending',
      attempts: job.attempt,
    });
    if (!sending && message.status !== 'sending') return 'skipped';
    if (!sending) await recordSendAttempt(deps.db, tenant.id, message.id, job.attempt);

    const statusCallback = `${deps.publicBaseUrl}/webhooks/twilio/sms/status?${new URLSearchParams({
      tenant: tenant.id,
      message: message.id,
    })}`;
    let checkPending = checkProvider;
    try {
      const existing = checkProvider
        ? await findSentMessage(deps.twilio, {
            to: caller,
            from: tenant.twilio_number,
            body: message.body,
            sentAfter: new Date(message.created_at.getTime() - PROVIDER_CHECK_SKEW_MS),
          })
        : null;
      checkPending = false;
      if (existing !== null) {
        deps.logger.info(
          { message_id: message.id, attempt: job.attempt },
          'sms already accepted by the provider; not sent again',
        );
      }
      const result =
        existing ??
        (await inSpan('twilio messages.create', { 'nmc.message_id': message.id }, () =>
          sendSms(deps.twilio, {
            from: tenant.twilio_number,
            to: caller,
            body: message.body,
            statusCallback,
          }),
        ));
      // If no callback brings it to a final state, ask Twilio later (webhook first, poll on
      // failure). Queued first and on its own: a poll whose SID write never came finds nothing to
      // ask and ends. The SID and the fact that the provider took the text (first-response latency
      // ends here; src/runtime/reports) then commit together in one statement, whoever wrote the
      // SID first: the status callback may have brought it already. A repeat (a retry that found
      // the text at the provider) is harmless: the reports keep the earliest acceptance.
      await deps.boss.send(
        QUEUES.smsStatusPoll,
        { tenant_id: tenant.id, message_id: message.id },
        // Through the system's pool, not pg-boss's smaller one its workers poll through.
        { db: bossDb(deps.db), startAfter: new Date(Date.now() + STATUS_POLL_DELAY_MS) },
      );
      await changeWithOutboxEvent(deps.db, recordProviderSidSql(tenant.id, message.id, result.sid), {
        tenantId: tenant.id,
        name: 'nmc.messaging.MessageAccepted',
        payload: { conversation_id: message.conversation_id, message_id: message.id, purpose },
        fromRow: {},
        occurredAt: new Date().toISOString(),
        correlationId: message.id,
        causationId: null,
      });
      deps.metrics?.smsSent.labels({ outcome: 'accepted' }).inc();
      // The first text's latency: the greeting is written in the transaction that records the missed call.
      if (purpose === 'greeting') {
        deps.metrics?.firstResponse.observe((Date.now() - message.created_at.getTime()) / 1000);
      }
      return 'sent';
    } catch (err) {
      const failure = classifyTwilioError(err);
      deps.logger.warn(
        {
          message_id: message.id,
          kind: failure.kind,
          code: failure.code,
          status: failure.status,
          ambiguous: failure.ambiguous,
          attempt: job.attempt,
        },
        'sms send failed',
      );
      deps.metrics?.smsSent.labels({ outcome: failure.kind }).inc();
      const code = failure.code === undefined ? null : String(failure.code);
      if (failure.kind === 'opted_out') {
        // The carrier says the caller unsubscribed: the opt-out, the failed message and the
        // conversation's block commit together (a crash in between cannot lose the block).
        await deps.dispatch(
          tenant.id,
          { conversationId: message.conversation_id },
          { type: 'OptedOut', source: 'carrier', confirm: false, at: new Date().toISOString() },
          {
            correlationId: message.id,
            causationId: message.id,
            idempotencyKey: `carrier-opt-out:${message.id}`,
            record: async ({ client }) => {
              await recordOptOut(client, tenant.id, caller, 'carrier');
              await fail(client, message, 'opted_out_at_carrier', code);
            },
          },
        );
        return 'failed';
      }
      if (failure.kind === 'permanent') {
        await fail(deps.db, message, 'rejected_by_provider', code);
        return 'failed';
      }
      return inTransaction(deps.db, async (tx) => {
        const maxAttempts = deps.maxAttempts ?? (await loadPolicy(tx, tenant.id))['sms.max_attempts'];
        if (shouldDeadLetter(job.attempt, maxAttempts)) {
          await fail(tx, message, 'retries_exhausted', code);
          await deps.boss.send(QUEUES.smsSendDead, job, { db: bossDb(tx) });
          return 'dead_lettered' as const;
        }
        const delayMs = backoffDelayMs(job.attempt - 1, random);
        // Still unknown whether Twilio holds it: this failure was ambiguous, or the check never ran.
        const retry: SendJob = {
          tenant_id: job.tenant_id,
          message_id: job.message_id,
          attempt: job.attempt + 1,
          ...(failure.ambiguous || checkPending ? { check_provider: true } : {}),
        };
        await deps.boss.send(QUEUES.smsSend, retry, {
          db: bossDb(tx),
          startAfter: new Date(Date.now() + delayMs),
        });
        return 'retry_scheduled' as const;
      });
    }
  };
}

/**
 * Replays dead-lettered sends: each becomes a NEW queued message with the same text in the same
 * conversation (statuses only move forward, so the failed one stays failed), and goes through the
 * send worker's guards again. Returns how many were replayed.
 */
export async function replayDeadSends(db: Pool, boss: PgBoss, limit = 100): Promise<number> {
  const jobs = await boss.fetch<SendJob>(QUEUES.smsSendDead, { batchSize: limit });
  let replayed = 0;
  for (const job of jobs ?? []) {
    await inTransaction(db, async (tx) => {
      const original = await findMessage(tx, job.data.tenant_id, job.data.message_id);
      if (original) {
        await lockConversation(tx, original.tenant_id, original.conversation_id);
        const id = await cloneOutboundMessage(tx, original.tenant_id, original.id);
        if (id)
          await boss.send(
            QUEUES.smsSend,
            { tenant_id: original.tenant_id, message_id: id, attempt: 1 },
            { db: bossDb(tx) },
          );
        replayed += 1;
      }
      await boss.complete(QUEUES.smsSendDead, job.id, null, { db: bossDb(tx) });
    });
  }
  return replayed;
}
