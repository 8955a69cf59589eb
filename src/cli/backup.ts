import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { backupFor, listBackups, pruneBackups } from '../persistence/backup/backup-store.ts';
import { takeBaseBackup } from '../persistence/backup/base-backup.ts';
import { restoreCluster } from '../persistence/backup/restore.ts';
import { ensurePassword, freePort, locateCluster } from '../persistence/embedded-postgres.ts';
import { readServerLocation } from '../server-location.ts';
import type { GlobalOptions } from './options.ts';
import { withProgress } from './progress.ts';
import { CliError } from './server.ts';

// `nmc backup` and `nmc restore` for the embedded cluster: base backups under
// $NMC_DATA_DIR/backups, the WAL archive beside the cluster, and point-in-time restores into a new
// data directory (never over the running one). An external Postgres is backed up with its own
// tools (docs/operations.md, Backups).

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

function timeArgument(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('a time, e.g. 2026-12-03T14:05:00Z');
  return new Date(ms).toISOString();
}

function keepArgument(value: string): number {
  const keep = Number(value);
  if (!Number.isInteger(keep) || keep < 1 || keep > 100) throw new InvalidArgumentError('1 to 100');
  return keep;
}

function embeddedOnly(options: GlobalOptions): void {
  if (options.config.DATABASE_URL) {
    throw new CliError(
      'DATABASE_URL is set: back up that server with pg_basebackup and WAL archiving (docs/operations.md, Backups)',
    );
  }
}

export function registerBackup(program: Command, globals: () => GlobalOptions): void {
  program
    .command('backup')
    .description(
      'take a base backup of the running embedded database (with its WAL archive: point-in-time restore)',
    )
    .addOption(
      new Option(
        '--keep <n>',
        'how many backups to keep (older ones and the WAL only they need are removed)',
      ).argParser(keepArgument),
    )
    .action(async (options: { keep?: number }) => {
      const { config } = globals();
      embeddedOnly(globals());
      const cluster = await locateCluster(join(config.NMC_DATA_DIR, 'pg'));
      const location = await readServerLocation(config.NMC_DATA_DIR);
      if (location === null) {
        throw new CliError(
          `no server is running on ${resolve(config.NMC_DATA_DIR)}: start it with npm start, then back up`,
        );
      }
      const port = new URL(location.database_url).port || String(config.EMBEDDED_PG_PORT);
      const password = await ensurePassword(cluster.credentialsFile);
      const root = join(config.NMC_DATA_DIR, 'backups');
      const name = new Date().toISOString().replace(/[:.]/g, '-');
      let done = { bytes: 0, totalBytes: 0 };
      const manifest = await withProgress(
        () => `backing up ${mb(done.bytes)} of ${mb(done.totalBytes)}`,
        takeBaseBackup({
          adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
          dataDir: cluster.dataDir,
          target: join(root, name),
          onProgress: (p) => {
            done = p;
          },
        }),
      );
      console.log(
        `backup ${name}: ${manifest.files} files, ${mb(manifest.bytes)}, WAL ${manifest.start_lsn}–${manifest.stop_lsn}`,
      );
      console.log(`  in ${resolve(root, name)}; WAL archive ${cluster.archiveDir}`);
      if (options.keep !== undefined) {
        const pruned = await pruneBackups(root, cluster.archiveDir, options.keep);
        console.log(`  removed ${pruned.backups} older backup(s) and ${pruned.segments} WAL segment(s)`);
      }
    });

  program
    .command('restore')
    .description('restore the embedded database into a NEW data directory, to a moment or to the latest')
    .requiredOption(
      '--into <dir>',
      'the new data directory (NMC_DATA_DIR of the restored copy); must not exist',
    )
    .addOption(
      new Option(
        '--to <time>',
        'recover up to this moment (RFC 3339); default: the end of the WAL archive',
      ).argParser(timeArgument),
    )
    .action(async (options: { into: string; to?: string }) => {
      const { config } = globals();
      embeddedOnly(globals());
      const source = await locateCluster(join(config.NMC_DATA_DIR, 'pg'));
      const backups = await listBackups(join(config.NMC_DATA_DIR, 'backups'));
      const backup = backupFor(backups, options.to);
      if (backup === null) {
        throw new CliError(
          options.to
            ? `no backup finished before ${options.to} (${backups.length} backup(s) in ${config.NMC_DATA_DIR}/backups)`
            : `no backup in ${config.NMC_DATA_DIR}/backups: take one with nmc backup`,
        );
      }
      const result = await withProgress(
        `restoring backup ${backup.name} and replaying WAL ${options.to ? `to ${options.to}` : 'to the end'}`,
        restoreCluster({
          backupDir: backup.dir,
          archiveDir: source.archiveDir,
          credentialsFile: source.credentialsFile,
          intoDataDir: join(options.into, 'pg'),
          port: await freePort(),
          ...(options.to ? { targetTime: options.to } : {}),
        }),
      );
      console.log(`restored into ${result.dataDir} (timeline ${result.timeline})`);
      console.log(
        `start it with: NMC_DATA_DIR=${resolve(options.into)} EMBEDDED_PG_PORT=<a free port> PORT=<a free port> npm start`,
      );
    });
}
