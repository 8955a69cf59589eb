import { randomBytes } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/persistence/embedded-postgres.ts';
import { freePort } from '../../test/helpers/processes.ts';

// The Postgres the bench measures: DATABASE_URL when set, else an embedded cluster of this run's own
// under .data/bench-pg/<pid>, removed afterwards. Unlike the test cluster it keeps fsync and
// synchronous_commit at their defaults: a commit here costs what it costs in production.
// Each scenario gets a database of its own (created here, dropped at the end) so their rows never
// mix; on a server where the role may not CREATE DATABASE, everything shares DATABASE_URL's.

export type BenchPostgres = {
  embedded: boolean;
  serverVersion: string;
  /** A fresh database for one scenario (or DATABASE_URL's own when databases cannot be created). */
  database(label: string): Promise<string>;
  /** Connection parameters for external clients (pgbench), without a URL carrying the password. */
  connection(url: string): { host: string; port: string; user: string; password: string; database: string };
  /** Drops the databases it created and stops the embedded cluster (removing its directory). */
  close(): Promise<void>;
  notes: string[];
};

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const notes: string[] = [];
  let adminUrl = process.env.DATABASE_URL;
  let stopCluster: () => Promise<void> = async () => undefined;
  const embedded = !adminUrl;
  if (!adminUrl) {
    const requested = join('.data', 'bench-pg', String(process.pid));
    const cluster = await startEmbeddedPostgres({
      dataDir: requested,
      port: await freePort(),
      // Connections only: every durability setting stays at its default.
      settings: { max_connections: '300' },
    });
    adminUrl = cluster.adminUrl;
    stopCluster = async () => {
      await cluster.stop();
      for (const dir of new Set([cluster.dataDir, requested])) {
        await rm(dir, { recursive: true, force: true });
        await rm(`${dir}.credentials`, { force: true });
      }
      await rmdir(join('.data', 'bench-pg')).catch(() => undefined); // only when empty
    };
  }

  const serverUrl: string = adminUrl;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  let serverVersion = 'unknown';
  const created: string[] = [];
  let canCreate = true;
  try {
    const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');
    serverVersion = rows[0]?.server_version ?? 'unknown';
  } catch (err) {
    await admin.end().catch(() => undefined);
    await stopCluster();
    throw err;
  }
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;

  return {
    embedded,
    serverVersion,
    notes,
    async database(label) {
      if (canCreate) {
        const name = `nmc_bench_${label}_${suffix}`;
        try {
          await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
          created.push(name);
          return withDatabase(serverUrl, name);
        } catch (err) {
          canCreate = false;
          notes.push(
            `could not create databases (${(err as Error).message}); all scenarios share DATABASE_URL's database`,
          );
        }
      }
      return serverUrl;
    },
    connection(url) {
      const parsed = new URL(url);
      return {
        host: parsed.hostname || '127.0.0.1',
        port: parsed.port || '5432',
        user: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
        database: decodeURIComponent(parsed.pathname.slice(1)),
      };
    },
    async close() {
      try {
        for (const name of created.reverse()) {
          await admin
            .query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`)
            .catch(() => undefined);
        }
        await admin.end().catch(() => undefined);
      } finally {
        await stopCluster();
      }
    },
  };
}
