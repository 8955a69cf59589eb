import type { PgBoss } from 'pg-boss';
import { Gauge } from 'prom-client';
import type { Queryable } from '../persistence/db.ts';
import { outboxHealth } from '../persistence/repositories/housekeeping.ts';
import { QUEUES } from '../runtime/job-queues.ts';
import type { Metrics } from './metrics.ts';

// The gauges behind the objectives' alerts (ops/prometheus/alerts.yml), read from the database and
// the job queue at each scrape, so they are true whichever process serves /metrics. Labels stay
// low-cardinality: queue names, never tenant ids.

export function registerObjectiveGauges(metrics: Metrics, deps: { db: Queryable; boss: PgBoss }): void {
  const { registry } = metrics;
  let health: Promise<Awaited<ReturnType<typeof outboxHealth>>> | null = null;
  // One query per scrape for the three outbox gauges, whichever is collected first.
  const read = () => {
    health ??= outboxHealth(deps.db, new Date()).finally(() => {
      setTimeout(() => {
        health = null;
      }, 1_000).unref();
    });
    return health;
  };
  new Gauge({
    name: 'nmc_outbox_lag_seconds',
    help: 'Age of the oldest outbox event not yet delivered to every subscriber (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await read()).lagSeconds);
    },
  });
  new Gauge({
    name: 'nmc_outbox_pending_events',
    help: 'Outbox events not yet delivered',
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: 'nmc_outbox_dead_letters',
    help: 'Outbox events that exhausted their retries (replay with nmc dead-letters replay)',
    registers: [registry],
    async collect() {
      this.set((await read()).deadLetters);
    },
  });
  new Gauge({
    name: 'nmc_queue_jobs',
    help: 'Jobs in each queue by state (queued includes deferred)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const name of Object.values(QUEUES)) {
        const [stats] = await deps.boss.getQueueStats(name).catch(() => []);
        if (!stats) continue;
        this.labels({ queue: name, state: 'queued' }).set(stats.queuedCount);
        this.labels({ queue: name, state: 'active' }).set(stats.activeCount);
        this.labels({ queue: name, state: 'failed' }).set(stats.failedCount);
      }
    },
  });
}
