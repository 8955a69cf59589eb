import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createPool } from '../src/persistence/db.ts';
import { startEmbeddedPostgres } from '../src/persistence/embedded-postgres.ts';
import { loadMigrations, migrate } from '../src/persistence/migrate.ts';
import { createBoss } from '../src/runtime/boss.ts';
import { ensureQueues } from '../src/runtime/job-queues.ts';
import { freePort } from './helpers/processes.ts';

// ONE Postgres for the whole run (embedded, or DATABASE_URL), one template database migrated once
// (named after the migrations' checksum, so a changed migration builds a new template), and one
// database per test file cloned from it (test/helpers/database.ts), so files run in parallel, isolated.

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.DATABASE_URL;
  let stop: () => Promise<void> = async () => undefined;
  if (!adminUrl) {
    // A cluster of this run's own, so two runs in one tree (or a run beside `npm start`) never meet.
    const dataDir = join('.data', 'test-pg', String(process.pid));
    const cluster = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      // A throwaway cluster: durability buys nothing here and costs seconds.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
    });
    adminUrl = cluster.adminUrl;
    stop = async () => {
      await cluster.stop();
      await rm(cluster.dataDir, { recursive: true, force: true });
      await rm(`${cluster.dataDir}.credentials`, { force: true });
    };
  }

  const migrations = await loadMigrations();
  const fingerprint = createHash('sha256')
    .update(migrations.map((m) => m.checksum).join(','))
    .digest('hex')
    .slice(0, 12);
  const templateDatabase = `nmc_template_${fingerprint}`;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [templateDatabase]);
    if (exists.rowCount === 0) {
      // Built under a name of this run's own, then renamed: a concurrent run on the same server
      // (DATABASE_URL) that wins the rename leaves ours to be dropped.
      const building = `${templateDatabase}_${process.pid}`;
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(building)}`);
      const url = withDatabase(adminUrl, building);
      const pool = createPool(url, { max: 2 });
      await migrate(pool, migrations);
      await pool.end();
      const boss = createBoss({ connectionString: url, supervise: false, max: 2 });
      await boss.start();
      await ensureQueues(boss);
      await boss.stop({ graceful: false });
      await admin
        .query(
          `ALTER DATABASE ${admin.escapeIdentifier(building)} RENAME TO ${admin.escapeIdentifier(templateDatabase)}`,
        )
        .catch(async (err: { code?: string }) => {
          if (err.code !== '42P04') throw err;
          await admin.query(`DROP DATABASE ${admin.escapeIdentifier(building)} WITH (FORCE)`);
        });
    }
  } finally {
    await admin.end();
  }

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);
  return async () => {
    await stop();
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
