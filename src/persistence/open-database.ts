import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export const EMBEDDED_DATABASE = 'nevermisscall';

export type OpenedDatabase = { url: string; embedded: boolean; stop(): Promise<void> };

/** DATABASE_URL when set; otherwise the embedded cluster under NMC_DATA_DIR, with its database created. */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenedDatabase> {
  if (config.DATABASE_URL) {
    return { url: config.DATABASE_URL, embedded: false, stop: async () => undefined };
  }
  const cluster = await startEmbeddedPostgres({
    dataDir: join(config.NMC_DATA_DIR, 'pg'),
    port: config.EMBEDDED_PG_PORT,
    ...(config.NMC_WAL_ARCHIVE_TIMEOUT_SECONDS > 0
      ? { archiveTimeoutSeconds: config.NMC_WAL_ARCHIVE_TIMEOUT_SECONDS }
      : {}),
    onLog: (line) => {
      if (/FATAL|PANIC|ERROR|cannot reach/.test(line)) logger.warn({ postgres: line }, 'embedded postgres');
      else logger.debug({ postgres: line }, 'embedded postgres');
    },
  });
  try {
    await ensureDatabase(cluster.adminUrl, EMBEDDED_DATABASE);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { url: cluster.urlFor(EMBEDDED_DATABASE), embedded: true, stop: () => cluster.stop() };
}

export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      const from = template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : '';
      await client
        .query(`CREATE DATABASE ${client.escapeIdentifier(name)}${from}`)
        .catch((err: { code?: string }) => {
          if (err.code !== '42P04') throw err; // created meanwhile by another process
        });
    }
  } finally {
    await client.end();
  }
}
