import { createStore } from '@xstate/store';
import type { EventEnvelope, EventName } from '../domain/event-catalog.ts';
import type { Logger } from '../observability/logger.ts';
import type { Pool } from '../persistence/db.ts';
import { createOutboxWake } from './outbox-wake.ts';

// The live-stream hub of one API process: operators' SSE connections subscribe here for their
// tenant, and the hub pushes that tenant's outbox events to them, in `seq` order, whether or not
// the dispatcher has delivered them yet. It wakes like the dispatcher (outbox-wake.ts: LISTEN on the
// outbox channel, a slow poll as the backstop). Each wake-up reads the new
// rows of the tenants that have subscribers, in one query, and fans each row out to its own
// tenant's subscribers only. The subscriber registry is an @xstate/store store.
//
// What must stay true: no event is skipped. `seq` is allocated at INSERT, not at COMMIT, so a row
// with a lower seq can become visible after a higher one. The hub therefore only reads up to a
// "horizon": the highest seq below which every value is either visible or a gap older than
// `gapTimeoutMs` (a rolled-back insert, a deleted row). A transaction still in flight holds the
// horizon back, briefly, instead of having its event jumped over.

export type StreamMessage = { type: 'event'; seq: number; envelope: EventEnvelope } | { type: 'heartbeat' };
export type StreamSend = (message: StreamMessage) => void;

export type StreamHub = {
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  /** Registers `send` for the tenant's events with seq > afterSeq; returns the unsubscribe function. */
  subscribe(tenantId: string, afterSeq: number, send: StreamSend): () => void;
  /** The tenant's newest seq: where a stream that does not resume starts ("now"). */
  latestSeq(tenantId: string): Promise<number>;
  /** How many subscribers are registered (for tests and metrics). */
  subscriberCount(): number;
};

export type StreamHubOptions = {
  /** Reads outbox rows. The LISTEN connection is separate, dedicated, and opened from connectionString. */
  db: Pool;
  connectionString: string;
  logger: Logger;
  heartbeatMs?: number;
  pollIntervalMs?: number;
  gapTimeoutMs?: number;
  batchSize?: number;
  now?: () => number;
};

type Subscription = { id: string; tenantId: string; cursor: number; send: StreamSend };

type OutboxRow = {
  seq: number;
  tenant_id: string;
  event_id: string;
  event_name: EventName;
  schema_version: number;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  payload: Record<string, unknown>;
};

export function createSubscriberStore() {
  return createStore({
    context: { subscriptions: {} as Record<string, Subscription> },
    on: {
      subscribed: (ctx, event: { subscription: Subscription }) => ({
        subscriptions: { ...ctx.subscriptions, [event.subscription.id]: event.subscription },
      }),
      unsubscribed: (ctx, event: { id: string }) => {
        if (!(event.id in ctx.subscriptions)) return ctx;
        const { [event.id]: _gone, ...rest } = ctx.subscriptions;
        return { subscriptions: rest };
      },
      /** Cursors only move forward; ids that unsubscribed meanwhile are ignored. */
      advanced: (ctx, event: { cursors: Record<string, number> }) => {
        const subscriptions = { ...ctx.subscriptions };
        for (const [id, cursor] of Object.entries(event.cursors)) {
          const current = subscriptions[id];
          if (current && cursor > current.cursor) subscriptions[id] = { ...current, cursor };
        }
        return { subscriptions };
      },
      cleared: () => ({ subscriptions: {} }),
    },
  });
}

export function createStreamHub(options: StreamHubOptions): StreamHub {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const gapTimeoutMs = options.gapTimeoutMs ?? 2_000;
  const batchSize = options.batchSize ?? 500;
  const now = options.now ?? Date.now;
  const store = createSubscriberStore();
  let nextId = 0;
  let heartbeat: NodeJS.Timeout | null = null;
  // Every seq ≤ horizon is visible or a stale gap; null while nobody subscribes.
  let horizon: number | null = null;
  const gapSeenAt = new Map<number, number>();

  const subscriptions = () => Object.values(store.getSnapshot().context.subscriptions);

  function deliver(subscription: Subscription, message: StreamMessage): void {
    try {
      subscription.send(message);
    } catch (err) {
      options.logger.warn({ err, tenant_id: subscription.tenantId }, 'stream subscriber failed; dropped');
      store.trigger.unsubscribed({ id: subscription.id });
    }
  }

  async function advanceHorizon(): Promise<number> {
    if (horizon === null) {
      gapSeenAt.clear();
      const { rows } = await options.db.query<{ seq: number }>(
        'SELECT coalesce(max(seq), 0)::bigint AS seq FROM outbox_events',
      );
      horizon = rows[0]?.seq ?? 0;
      return horizon;
    }
    let reached: number = horizon;
    for (;;) {
      const { rows }: { rows: { seq: number }[] } = await options.db.query<{ seq: number }>(
        'SELECT seq FROM outbox_events WHERE seq > $1 ORDER BY seq LIMIT $2',
        [reached, batchSize],
      );
      const at = now();
      let expected = reached + 1;
      for (const { seq } of rows) {
        if (seq > expected && !gapSeenAt.has(expected)) gapSeenAt.set(expected, at);
        expected = seq + 1;
      }
      let blocked = false;
      for (const { seq } of rows) {
        if (seq !== reached + 1 && at - (gapSeenAt.get(reached + 1) ?? at) < gapTimeoutMs) {
          blocked = true;
          break;
        }
        reached = seq;
      }
      for (const missing of gapSeenAt.keys()) if (missing <= reached) gapSeenAt.delete(missing);
      horizon = reached;
      if (blocked || rows.length < batchSize) return reached;
    }
  }

  async function drain(): Promise<void> {
    if (subscriptions().length === 0) {
      horizon = null;
      return;
    }
    const upTo = await advanceHorizon();
    for (;;) {
      const current = subscriptions();
      if (current.length === 0) return;
      const from = Math.min(...current.map((s) => s.cursor));
      if (from >= upTo) return;
      const tenants = [...new Set(current.map((s) => s.tenantId))];
      const { rows } = await options.db.query<OutboxRow>(
        `SELECT seq, tenant_id, event_id, event_name, schema_version, occurred_at, correlation_id, causation_id, payload
         FROM outbox_events
         WHERE tenant_id = ANY($1::uuid[]) AND seq > $2 AND seq <= $3
         ORDER BY seq
         LIMIT $4`,
        [tenants, from, upTo, batchSize],
      );
      const cursors: Record<string, number> = {};
      for (const row of rows) {
        const envelope: EventEnvelope = {
          event_id: row.event_id,
          event_name: row.event_name,
          schema_version: row.schema_version,
          tenant_id: row.tenant_id,
          occurred_at: new Date(row.occurred_at).toISOString(),
          correlation_id: row.correlation_id,
          causation_id: row.causation_id,
          payload: row.payload,
        };
        for (const subscription of current) {
          // The fan-out's tenant check: a row reaches only subscribers of its own tenant.
          if (subscription.tenantId !== row.tenant_id) continue;
          if (row.seq <= (cursors[subscription.id] ?? subscription.cursor)) continue;
          deliver(subscription, { type: 'event', seq: row.seq, envelope });
          cursors[subscription.id] = row.seq;
        }
      }
      // Every subscribed tenant's rows up to `reached` were in this batch, so every cursor may move
      // there; otherwise a quiet tenant's old cursor would make each query re-read the others' rows.
      const last = rows[rows.length - 1];
      const reached = rows.length < batchSize || !last ? upTo : last.seq;
      for (const subscription of current) {
        cursors[subscription.id] = Math.max(cursors[subscription.id] ?? subscription.cursor, reached);
      }
      store.trigger.advanced({ cursors });
      if (rows.length < batchSize) return;
    }
  }

  const wake = createOutboxWake({
    connectionString: options.connectionString,
    applicationName: 'nevermisscall-stream',
    pollIntervalMs,
    logger: options.logger,
    run: drain,
  });

  return {
    async start() {
      if (wake.running()) return;
      await wake.start();
      heartbeat = setInterval(() => {
        for (const subscription of subscriptions()) deliver(subscription, { type: 'heartbeat' });
      }, heartbeatMs);
      heartbeat.unref();
    },
    async stop() {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      await wake.stop();
      store.trigger.cleared();
      horizon = null;
    },
    running: () => wake.running(),
    subscribe(tenantId, afterSeq, send) {
      nextId += 1;
      const id = String(nextId);
      store.trigger.subscribed({ subscription: { id, tenantId, cursor: afterSeq, send } });
      wake.kick();
      return () => store.trigger.unsubscribed({ id });
    },
    async latestSeq(tenantId) {
      const { rows } = await options.db.query<{ seq: number }>(
        'SELECT coalesce(max(seq), 0)::bigint AS seq FROM outbox_events WHERE tenant_id = $1',
        [tenantId],
      );
      return rows[0]?.seq ?? 0;
    },
    subscriberCount: () => subscriptions().length,
  };
}
