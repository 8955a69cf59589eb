import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { inTransaction } from '../../src/persistence/db.ts';
import { closedLoop, type LoadResult } from '../lib/load.ts';
import type { BenchPostgres } from '../lib/postgres.ts';
import { sqlStatements } from '../lib/sql-count.ts';

// The yardsticks every other figure is divided by, measured on the same server in the same run:
// - insert: BEGIN; INSERT one row; COMMIT through `pg`, as `inTransaction` does — the cheapest
//   durable transaction an application can make;
// - tpcb: pgbench's TPC-B-like transaction at scale 1 — with the pgbench binary when one is
//   installed and can reach the server, otherwise the same statements through `pg`.

const run = promisify(execFile);

export type Baseline = {
  insert: Map<number, LoadResult>;
  tpcb: Map<number, { tps: number; latencyAvgMs: number; via: string; errors: number }>;
};

export async function setupInsertTable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS bench_insert (
      id bigserial PRIMARY KEY,
      tenant_id uuid NOT NULL,
      payload text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  } finally {
    await client.end();
  }
}

const PAYLOAD = 'x'.repeat(120);

function benchPool(url: string, max: number, name: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: name });
  pool.on('error', () => undefined); // an idle client dropped by the server must not crash the run
  return pool;
}
const TENANT = '00000000-0000-4000-8000-000000000001';

export async function insertBaseline(
  url: string,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const pool = benchPool(url, concurrency, 'nmc-bench-baseline');
  try {
    return await closedLoop({
      meter: sqlStatements,
      concurrency,
      durationMs,
      warmupMs: 500,
      task: async () => {
        await inTransaction(pool, async (client) => {
          await client.query('INSERT INTO bench_insert (tenant_id, payload) VALUES ($1, $2)', [
            TENANT,
            PAYLOAD,
          ]);
        });
      },
    });
  } finally {
    await pool.end();
  }
}

/** 100 one-row insert transactions started at once over `connections` connections: ms until all committed. */
export async function insertBurst(url: string, attempts: number, connections: number): Promise<number> {
  const pool = benchPool(url, connections, 'nmc-bench-baseline');
  try {
    // Open the connections first, as the hold race below finds them open too.
    const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
    for (const c of clients) c.release();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: attempts }, async () => {
        await inTransaction(pool, async (client) => {
          await client.query('INSERT INTO bench_insert (tenant_id, payload) VALUES ($1, $2)', [
            TENANT,
            PAYLOAD,
          ]);
        });
      }),
    );
    return performance.now() - t0;
  } finally {
    await pool.end();
  }
}

// ── TPC-B-like ────────────────────────────────────────────────────────────────────────────────────

export type TpcbRunner = {
  via: string;
  run(
    concurrency: number,
    durationMs: number,
  ): Promise<{ tps: number; latencyAvgMs: number; errors: number }>;
};

/** pgbench when `which pgbench` finds one and `pgbench -i` succeeds against the server; else `pg`. */
export async function prepareTpcb(postgres: BenchPostgres, url: string): Promise<TpcbRunner> {
  const pgbench = await which('pgbench');
  if (pgbench) {
    const conn = postgres.connection(url);
    const env = { ...process.env, PGPASSWORD: conn.password, PGCONNECT_TIMEOUT: '5' };
    const base = ['-h', conn.host, '-p', conn.port, '-U', conn.user];
    try {
      await run(pgbench, ['-i', '-s', '1', '-q', ...base, conn.database], { env, timeout: 60_000 });
      const version = (await run(pgbench, ['--version'], { env })).stdout.trim();
      return {
        via: version,
        async run(concurrency, durationMs) {
          const seconds = Math.max(1, Math.round(durationMs / 1000));
          const { stdout } = await run(
            pgbench,
            ['-n', '-c', String(concurrency), '-j', '2', '-T', String(seconds), ...base, conn.database],
            { env, timeout: durationMs + 60_000 },
          );
          const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
          const latencyAvgMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? Number.NaN);
          const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
          return { tps, latencyAvgMs, errors: failed };
        },
      };
    } catch (err) {
      postgres.notes.push(
        `pgbench found at ${pgbench} but could not reach the server (${firstLine(err)}); tpcb runs through pg`,
      );
    }
  }
  await initTpcbThroughPg(url);
  return {
    via: 'pg driver (no usable pgbench)',
    async run(concurrency, durationMs) {
      const result = await tpcbThroughPg(url, concurrency, durationMs);
      const mean = result.latenciesMs.reduce((a, b) => a + b, 0) / Math.max(1, result.latenciesMs.length);
      return { tps: result.perSecond, latencyAvgMs: mean, errors: result.errors };
    },
  };
}

async function which(command: string): Promise<string | null> {
  try {
    const { stdout } = await run('which', [command]);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

function firstLine(err: unknown): string {
  const text = (err as { stderr?: string }).stderr?.trim() || (err as Error).message || String(err);
  return text.split('\n')[0] ?? text;
}

const SCALE = 1;
const ACCOUNTS = 100_000 * SCALE;
const TELLERS = 10 * SCALE;
const BRANCHES = 1 * SCALE;

async function initTpcbThroughPg(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers;
      CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
      CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100);
      CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor = 100);
      CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88)) WITH (fillfactor = 100);
      INSERT INTO pgbench_branches (bid, bbalance) SELECT b, 0 FROM generate_series(1, ${BRANCHES}) b;
      INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT t, (t - 1) / 10 + 1, 0 FROM generate_series(1, ${TELLERS}) t;
      INSERT INTO pgbench_accounts (aid, bid, abalance, filler)
        SELECT a, (a - 1) / 100000 + 1, 0, '' FROM generate_series(1, ${ACCOUNTS}) a;
      ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid);
      ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid);
      ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid);
    `);
    await client.query('VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history');
  } finally {
    await client.end();
  }
}

async function tpcbThroughPg(url: string, concurrency: number, durationMs: number): Promise<LoadResult> {
  const pool = benchPool(url, concurrency, 'nmc-bench-tpcb');
  try {
    return await closedLoop({
      meter: sqlStatements,
      concurrency,
      durationMs,
      warmupMs: 500,
      task: async () => {
        const aid = randomInt(1, ACCOUNTS + 1);
        const bid = randomInt(1, BRANCHES + 1);
        const tid = randomInt(1, TELLERS + 1);
        const delta = randomInt(-5000, 5001);
        await inTransaction(pool, async (client) => {
          await client.query('UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', [
            delta,
            aid,
          ]);
          await client.query('SELECT abalance FROM pgbench_accounts WHERE aid = $1', [aid]);
          await client.query('UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', [
            delta,
            tid,
          ]);
          await client.query('UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', [
            delta,
            bid,
          ]);
          await client.query(
            'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)',
            [tid, bid, aid, delta],
          );
        });
      },
    });
  } finally {
    await pool.end();
  }
}
