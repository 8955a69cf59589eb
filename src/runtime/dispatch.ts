import { randomUUID } from 'node:crypto';
import type { JobInsert, PgBoss } from 'pg-boss';
import { AppError } from '../domain/errors.ts';
import { type ConversationEvent, type Effect, isBookingRequest } from '../machines/conversation-events.ts';
import {
  type ConversationState,
  initialSnapshot,
  reviveSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  SnapshotRevivalError,
  step,
} from '../machines/conversation-snapshot.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { CORRELATION_ATTRIBUTE, inSpan } from '../observability/tracing.ts';
import { inTransactionReading, type Pool, type PoolClient } from '../persistence/db.ts';
import {
  type ConversationRow,
  findAppliedEvent,
  flagConversation,
  lockConversation,
  lockOrCreateActiveConversation,
  recordAppliedEvent,
  saveConversation,
} from '../persistence/repositories/conversations.ts';
import { claimWebhook } from '../persistence/repositories/housekeeping.ts';
import { insertMessage } from '../persistence/repositories/messages.ts';
import { findTenantById, type Tenant } from '../persistence/repositories/tenants.ts';
import { answerBookingRequest } from './booking-requests.ts';
import { bossDb } from './boss.ts';
import { type GatesReader, loadConversationFacts } from './conversation-facts.ts';
import { QUEUES } from './job-queues.ts';
import { type NewEvent, writeOutboxEvents } from './outbox.ts';
import type { LinkFor } from './portal/portal-links.ts';
import type { QueuedSend } from './send-now.ts';
import { createTenantFactsCache, heldOr, type TenantFactsCache } from './tenant-facts.ts';

// The actor host. `dispatch` applies one event to one conversation in ONE transaction: claim the
// webhook / idempotency key, lock the conversation row (creating it if missing), revive its
// snapshot, read the facts, apply the pure transition, then write the snapshot (version + 1), the
// message rows, the outbox events and the pg-boss jobs with the same client — and commit. Nothing
// leaves the process before the commit; the row lock applies events one at a time across processes.

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventInput = DistributiveOmit<ConversationEvent, 'facts'>;

export type ConversationRef = { conversationId: string } | { caller: string };

/** Rows a caller writes in the dispatch transaction before the transition (an inbound message, a call). */
export type RecordHook = (tx: {
  client: PoolClient;
  tenant: Tenant;
  conversation: { id: string; caller: string; state: string };
  emit: (name: string, payload: Record<string, unknown>) => void;
}) => Promise<void>;

export type DispatchOptions = {
  correlationId: string;
  causationId?: string | null;
  /** A replay with the same key returns the first result and has no effect. */
  idempotencyKey?: string;
  /** A provider callback's identity, claimed in `webhook_events` in the same transaction. */
  webhook?: { provider: string; key: string };
  record?: RecordHook;
  /**
   * Rows a caller writes in the dispatch transaction after the transition, knowing its outcome
   * (also when the conversation was flagged; not for a duplicate).
   */
  finish?: (tx: { client: PoolClient; result: DispatchResult }) => Promise<void>;
  /** The tenant when the caller has already read it (a webhook finds it by number): not read again. */
  tenant?: Tenant;
};

export type DispatchResult = {
  outcome: 'applied' | 'ignored' | 'duplicate' | 'flagged';
  conversationId: string;
  version: number;
  state: ConversationState | string;
  messageIds: string[];
};

export type Dispatch = (
  tenantId: string,
  ref: ConversationRef,
  event: EventInput,
  options: DispatchOptions,
) => Promise<DispatchResult>;

export type DispatcherDeps = {
  db: Pool;
  boss: PgBoss;
  readGates: GatesReader;
  metrics?: Metrics;
  /** One info line per applied event with the dialogue's step (the committed events log themselves). */
  logger?: Logger;
  /** HOLD_TTL_MINUTES: the default a tenant's scheduling policy can override. */
  holdTtlMinutes?: number;
  /** The customer's page a booking confirmation links to (src/runtime/portal); none without it. */
  portalLinks?: LinkFor;
  /** Test seam: runs after the transition and the writes, before COMMIT. */
  beforeCommit?: () => Promise<void>;
  /**
   * Told, after COMMIT, of the send jobs the transaction queued: the process sends them at once
   * (src/runtime/send-now.ts); the jobs stay for the workers otherwise.
   */
  sendNow?: (sends: readonly QueuedSend[]) => void;
  /** The tenant-level facts kept between events (one per process by default). */
  tenantFacts?: TenantFactsCache;
};

const MAX_FOLLOW_UPS = 6;

/** Events whose handling (or follow-ups) can reach the booking dialogue, which quotes the catalog. */
const DIALOGUE_EVENTS = new Set<string>(['InboundSms', 'HoldExpired', 'InactivityTimeout']);

const PARTICIPANT_BY_PURPOSE = {
  greeting: 'assistant',
  assistant: 'assistant',
  operator: 'operator',
  compliance: 'system',
} as const;

export function createDispatch(deps: DispatcherDeps): Dispatch {
  const tenantFacts = deps.tenantFacts ?? createTenantFactsCache();
  const portalLinks = deps.portalLinks;
  const dispatch: Dispatch = async (tenantId, ref, event, options) => {
    const stepLog: { dialogue?: string; answers: string[] } = { answers: [] };
    const sends: QueuedSend[] = [];
    const versionSql = (escapeLiteral: (value: string) => string) =>
      tenantFacts.versionSql(tenantId, escapeLiteral);
    const result = await inTransactionReading(
      deps.db,
      versionSql,
      async (client, read: { version: number }[]) => {
        const held = tenantFacts.held(tenantId, Number(read[0]?.version ?? 0));
        if (options.idempotencyKey) {
          // Same-key dispatches queue here, so the second always sees the first one's record.
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
            tenantId,
            options.idempotencyKey,
          ]);
          const applied = await findAppliedEvent(client, tenantId, options.idempotencyKey);
          if (applied) return { ...(applied.result as DispatchResult), outcome: 'duplicate' as const };
        }
        if (options.webhook) {
          if (!(await claimWebhook(client, { ...options.webhook, tenantId }))) {
            return {
              outcome: 'duplicate' as const,
              conversationId: '',
              version: 0,
              state: 'unknown',
              messageIds: [],
            };
          }
        }
        // The caller's copy (read before this transaction) is used, not kept.
        const tenant =
          options.tenant?.id === tenantId
            ? options.tenant
            : await heldOr(held, 'tenant', () => findTenantById(client, tenantId));
        if (!tenant) throw new AppError('not_found', 'tenant not found');

        // The feature gates are the tenant's, not the conversation's: read before its lock, so events
        // of one conversation wait for each other two round trips less.
        const gates = await deps.readGates(client, tenantId, event.at, held);
        const { row, created } = await resolveConversation(client, tenantId, ref, event);
        const events: NewEvent[] = [];
        const emit = (name: string, payload: Record<string, unknown>) =>
          events.push({
            tenantId,
            name,
            payload: { conversation_id: row.id, ...payload },
            occurredAt: event.at,
            correlationId: options.correlationId,
            causationId: options.causationId ?? null,
          });
        if (created) emit('nmc.conversation.ConversationStarted', {});

        if (options.record) {
          await options.record({
            client,
            tenant,
            conversation: { id: row.id, caller: row.caller, state: row.state },
            emit,
          });
        }

        let stored: ReturnType<typeof reviveSnapshot>;
        try {
          stored = reviveSnapshot(row.snapshot, row.snapshot_schema_version);
        } catch (err) {
          if (!(err instanceof SnapshotRevivalError)) throw err;
          // Never reset silently: flag it, tell operators, keep the inbound rows written above.
          let version = row.version;
          if (row.flagged === null) {
            version = await flagConversation(client, tenantId, row.id, 'unrevivable_snapshot');
            emit('nmc.conversation.SnapshotUnrevivable', {
              error: err.message,
              snapshot_schema_version: row.snapshot_schema_version,
            });
          }
          await writeOutboxEvents(client, events);
          const flagged: DispatchResult = {
            outcome: 'flagged',
            conversationId: row.id,
            version,
            state: row.state,
            messageIds: [],
          };
          await options.finish?.({ client, result: flagged });
          return flagged;
        }

        const facts = await loadConversationFacts(client, tenant, row.caller, event.at, deps.readGates, {
          catalog: DIALOGUE_EVENTS.has(event.type),
          held,
          gates,
        });
        // Apply the event, then the answers to the dialogue's booking requests (each a follow-up
        // event), in order, all inside this transaction.
        const first = step(stored, { ...event, facts } as ConversationEvent);
        let outcome = first;
        const timers: JobInsert[] = [];
        const messageIds: string[] = [];
        const pending: Effect[] = [...first.effects];
        let followUps = 0;
        while (pending.length > 0) {
          const effect = pending.shift() as Effect;
          if (!isBookingRequest(effect)) {
            messageIds.push(
              ...(await executeEffects(
                client,
                deps.boss,
                tenant,
                row,
                [effect],
                event.at,
                emit,
                sends,
                timers,
              )),
            );
            continue;
          }
          const answer = await answerBookingRequest(effect, {
            client,
            boss: deps.boss,
            tenant,
            conversationId: row.id,
            at: event.at,
            holdTtlMinutes: deps.holdTtlMinutes ?? 15,
            facts: held,
            trace: { correlationId: options.correlationId, causationId: options.causationId ?? null },
            ...(portalLinks
              ? {
                  linkFor: (appointmentId: string) =>
                    portalLinks({
                      db: client,
                      tenantId,
                      appointmentId,
                      phone: row.caller,
                    }),
                }
              : {}),
          });
          if (answer === null) continue;
          if (++followUps > MAX_FOLLOW_UPS) throw new Error('booking dialogue did not settle');
          stepLog.answers.push(answer.type);
          outcome = {
            ...step(outcome.snapshot, { ...answer, facts } as ConversationEvent),
            previousState: first.previousState,
          };
          pending.unshift(...outcome.effects);
        }
        if (outcome.state !== outcome.previousState) {
          emit('nmc.conversation.StateChanged', {
            from: outcome.previousState,
            to: outcome.state,
            cause: event.type,
          });
        }
        if (timers.length > 0) {
          await deps.boss.insert(QUEUES.conversationTimer, timers, { db: bossDb(client) });
        }
        stepLog.dialogue = outcome.snapshot.context.dialogue.step;
        const version = await saveConversation(client, {
          tenantId,
          id: row.id,
          state: outcome.state,
          assignedTo: outcome.snapshot.context.assignedTo,
          snapshot: outcome.snapshot,
          schemaVersion: SNAPSHOT_SCHEMA_VERSION,
          at: event.at,
          touchedMessages: messageIds.length > 0 || event.type === 'InboundSms',
        });
        await writeOutboxEvents(client, events);
        const dispatchResult: DispatchResult = {
          outcome: first.handled ? 'applied' : 'ignored',
          conversationId: row.id,
          version,
          state: outcome.state,
          messageIds,
        };
        if (options.idempotencyKey) {
          await recordAppliedEvent(client, {
            tenantId,
            key: options.idempotencyKey,
            conversationId: row.id,
            version,
            result: dispatchResult,
          });
        }
        await options.finish?.({ client, result: dispatchResult });
        await deps.beforeCommit?.();
        return dispatchResult;
      },
    );
    if (sends.length > 0) deps.sendNow?.(sends);
    deps.metrics?.eventsDispatched.labels({ type: event.type }).inc();
    if (result.outcome === 'applied' || result.outcome === 'ignored') {
      deps.logger?.info(
        {
          conversation_id: result.conversationId,
          event: event.type === 'InactivityTimeout' ? `${event.type}:${event.timer}` : event.type,
          outcome: result.outcome,
          state: result.state,
          dialogue_step: stepLog.dialogue,
          booking: stepLog.answers.join(',') || undefined,
          correlation_id: options.correlationId,
        },
        `conversation step: ${event.type}`,
      );
    }
    return result;
  };
  return (tenantId, ref, event, options) =>
    inSpan(
      `dispatch ${event.type}`,
      { [CORRELATION_ATTRIBUTE]: options.correlationId, 'nmc.tenant_id': tenantId },
      () => dispatch(tenantId, ref, event, options),
    );
}

async function resolveConversation(
  client: PoolClient,
  tenantId: string,
  ref: ConversationRef,
  event: EventInput,
): Promise<{ row: ConversationRow; created: boolean }> {
  if ('conversationId' in ref) {
    const row = await lockConversation(client, tenantId, ref.conversationId);
    if (!row) throw new AppError('not_found', 'conversation not found');
    return { row, created: false };
  }
  const fresh = initialSnapshot();
  return lockOrCreateActiveConversation(
    client,
    {
      tenantId,
      id: randomUUID(),
      caller: ref.caller,
      state: fresh.value,
      snapshot: fresh,
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      at: event.at,
    },
    event.type === 'MissedCall',
  );
}

async function executeEffects(
  client: PoolClient,
  boss: PgBoss,
  tenant: Tenant,
  conversation: ConversationRow,
  effects: Effect[],
  at: string,
  emit: (name: string, payload: Record<string, unknown>) => void,
  sends: QueuedSend[],
  timers: JobInsert[],
): Promise<string[]> {
  const messageIds: string[] = [];
  for (const effect of effects) {
    switch (effect.type) {
      case 'sendSms': {
        const id = randomUUID();
        await insertMessage(client, {
          tenantId: tenant.id,
          id,
          conversationId: conversation.id,
          direction: 'out',
          participant: PARTICIPANT_BY_PURPOSE[effect.purpose],
          operatorId: effect.operatorId,
          purpose: effect.purpose,
          body: effect.body,
          status: 'queued',
          at,
        });
        const job = { tenant_id: tenant.id, message_id: id, attempt: 1 };
        const jobId = await boss.send(QUEUES.smsSend, job, { db: bossDb(client) });
        if (jobId) sends.push({ jobId, job });
        emit('nmc.conversation.MessageQueued', { message_id: id, purpose: effect.purpose });
        messageIds.push(id);
        break;
      }
      case 'scheduleTimer':
        // Inserted together before the snapshot is saved (one statement for an event's timers).
        timers.push({
          data: {
            tenant_id: tenant.id,
            conversation_id: conversation.id,
            timer: effect.timer,
            token: effect.token,
          },
          startAfter: new Date(effect.fireAt),
        });
        break;
      case 'emit':
        emit(effect.name, effect.payload);
        break;
      case 'notifyOperators':
        emit('nmc.conversation.OperatorAttentionNeeded', { reason: effect.reason });
        break;
    }
  }
  return messageIds;
}
