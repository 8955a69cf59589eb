import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { type RunningPostgres, startEmbeddedPostgres } from '../../src/persistence/embedded-postgres.ts';
import { freePort } from '../../test/helpers/processes.ts';

// The run's Postgres: DATABASE_URL when set, else an embedded cluster under .data/faults-pg/<pid>
// on a free port. Each scenario gets a database of its own. The embedded cluster can be stopped and
// started again on the same port and data directory (scenario 3).

export type FaultsCluster = {
  embedded: boolean;
  serverVersion: string;
  port: number | null;
  database(label: string): Promise<string>;
  /** Stops the embedded cluster (fast shutdown); null when running on DATABASE_URL. */
  stop: (() => Promise<void>) | null;
  start: (() => Promise<void>) | null;
  close(): Promise<void>;
  notes: string[];
};

export async function openCluster(
  runDir: string,
  logFile: string,
  options: { embedded?: boolean } = {},
): Promise<FaultsCluster> {
  const notes: string[] = [];
  const log = createWriteStream(logFile, { flags: 'a' });
  let adminUrl = options.embedded ? undefined : process.env.DATABASE_URL;
  const embedded = !adminUrl;
  let running: RunningPostgres | null = null;
  const requested = join(runDir, 'pg');
  const port = embedded ? await freePort() : null;
  const start = async () => {
    running = await startEmbeddedPostgres({
      dataDir: requested,
      port: port as number,
      settings: { max_connections: '300' },
      onLog: (line) => log.write(`${line}\n`),
    });
  };
  if (embedded) {
    await start();
    adminUrl = (running as RunningPostgres | null)?.adminUrl;
  }
  const serverUrl = adminUrl as string;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const serverVersion = await admin(async (c) => {
    const { rows } = await c.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  });
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const created: string[] = [];
  let canCreate = true;

  return {
    embedded,
    serverVersion,
    port,
    notes,
    async database(label) {
      if (canCreate) {
        const name = `nmc_faults_${label}_${suffix}`;
        try {
          await admin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
          created.push(name);
          const url = new URL(serverUrl);
          url.pathname = `/${name}`;
          return url.toString();
        } catch (err) {
          canCreate = false;
          notes.push(
            `could not create databases (${(err as Error).message}); scenarios share DATABASE_URL's database`,
          );
        }
      }
      return serverUrl;
    },
    stop: embedded
      ? async () => {
          await running?.stop();
        }
      : null,
    start: embedded ? start : null,
    async close() {
      if (!embedded) {
        await admin(async (c) => {
          for (const name of created.reverse()) {
            await c
              .query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)
              .catch(() => undefined);
          }
        }).catch(() => undefined);
      } else {
        const current = running as RunningPostgres | null;
        await current?.stop().catch(() => undefined);
        if (current) {
          await rm(current.dataDir, { recursive: true, force: true });
          await rm(`${current.dataDir}.credentials`, { force: true });
          // As root the cluster may live under /var/lib/nevermisscall/<hash>/ (see embedded-postgres.ts).
          if (current.dataDir.startsWith('/var/lib/nevermisscall/')) {
            await rm(dirname(current.dataDir), { recursive: true, force: true });
          }
        }
      }
      await new Promise<void>((resolve) => log.end(() => resolve()));
    },
  };
}
