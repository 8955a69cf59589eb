import { PgBoss } from 'pg-boss';
import type { Queryable } from '../persistence/db.ts';

export const BOSS_SCHEMA = 'pgboss';

export type BossOptions = { connectionString: string; supervise: boolean; max?: number };

export function createBoss(options: BossOptions): PgBoss {
  return new PgBoss({
    connectionString: options.connectionString,
    schema: BOSS_SCHEMA,
    max: options.max ?? 10,
    application_name: 'nevermisscall-jobs',
    // Workers wake on NOTIFY when a job is committed, so a send never waits for a poll.
    useListenNotify: true,
    supervise: options.supervise,
    // Expired jobs (a worker that died mid-send) are handed out again by the monitor pass; every 2 s
    // instead of every 60 s, so a caller's text is late by seconds, not a minute. The pass is a few
    // indexed statements per queue.
    superviseIntervalSeconds: 2,
    monitorIntervalSeconds: 2,
    schedule: options.supervise,
    migrate: true,
    // With an OpenTelemetry SDK registered, a job carries the trace of the transaction that enqueued
    // it and its processing continues that trace (a no-op otherwise).
    openTelemetry: { propagateContext: true },
  });
}

/** pg-boss's `db` option over a client that is inside our transaction: the job commits with the change. */
export function bossDb(client: Queryable) {
  return {
    executeSql: async (text: string, values?: unknown[]) => {
      const result = await client.query(text, values as unknown[]);
      return { rows: result.rows };
    },
  };
}
