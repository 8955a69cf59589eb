import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { createLogger } from '../observability/logger.ts';
import { createPool } from '../persistence/db.ts';
import { ensurePassword, locateCluster } from '../persistence/embedded-postgres.ts';
import { migrate } from '../persistence/migrate.ts';
import { openDatabase } from '../persistence/open-database.ts';
import { type RebuildProgress, rebuildReports } from '../runtime/reports/rebuild-reports.ts';
import { readServerLocation } from '../server-location.ts';
import type { GlobalOptions } from './options.ts';

// `nmc reports rebuild`: recompute every reporting read model from the events, against the database
// directly (DATABASE_URL, or the embedded Postgres under NMC_DATA_DIR: the running server's, or
// started for the command). A running server keeps working meanwhile: its live updates wait for the
// rebuild and then apply on top.

const BAR_WIDTH = 30;

/** A progress bar on stderr: redrawn in place on a terminal, one line per 10% elsewhere. */
export function progressBar(write: (text: string) => void, terminal: boolean) {
  let lastTenth = -1;
  return (p: RebuildProgress) => {
    if (p.phase === 'import') {
      if (terminal) write(`\rcopying retained events… ${p.done}`);
      return;
    }
    const fraction = p.total === 0 ? 1 : p.done / p.total;
    const filled = Math.round(fraction * BAR_WIDTH);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${p.done}/${p.total} events`;
    if (terminal) {
      write(`\r\x1b[2K${line}`);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      write(`${line}\n`);
    }
  };
}

/**
 * DATABASE_URL when set; else the running server's embedded cluster (a second process cannot start
 * the cluster while the server has it); else the embedded cluster, started for this command.
 */
async function databaseOf(config: Config): Promise<{ url: string; stop(): Promise<void> }> {
  const running = config.DATABASE_URL ? null : await readServerLocation(config.NMC_DATA_DIR);
  if (running === null) return openDatabase(config, createLogger(config.LOG_LEVEL));
  const cluster = await locateCluster(join(config.NMC_DATA_DIR, 'pg'));
  const url = new URL(running.database_url);
  url.password = await ensurePassword(cluster.credentialsFile);
  return { url: url.toString(), stop: async () => undefined };
}

export function registerReports(program: Command, globals: () => GlobalOptions): void {
  const reports = program.command('reports').description('the reporting read models (rep_*)');
  reports
    .command('rebuild')
    .description('recompute every report from the retained events (database directly, like migrate)')
    .action(async () => {
      const { config } = globals();
      const database = await databaseOf(config);
      const pool = createPool(database.url, { max: 2 });
      const terminal = process.stderr.isTTY === true;
      try {
        await migrate(pool);
        const started = Date.now();
        const result = await rebuildReports(
          pool,
          progressBar((text) => process.stderr.write(text), terminal),
        );
        if (terminal) process.stderr.write('\n');
        process.stdout.write(
          `rebuilt from ${result.applied} events (${result.imported} copied from the outbox) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      } finally {
        await pool.end();
        await database.stop();
      }
    });
}
