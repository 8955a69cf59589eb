import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { locateCluster, startEmbeddedPostgres } from '../embedded-postgres.ts';

// Point-in-time recovery into a NEW cluster, never over a running one: the base backup's copy,
// then the archived WAL replayed up to the target time (or to its end), then promoted. The result
// is an ordinary cluster that `NMC_DATA_DIR=<into> npm start` runs.

const run = promisify(execFile);

export class RestoreError extends Error {
  override name = 'RestoreError';
}

export type RestoreInput = {
  /** A base backup's directory (its `data/` and `backup.json`). */
  backupDir: string;
  /** The source cluster's WAL archive. */
  archiveDir: string;
  /** The source cluster's credentials file: the restored cluster keeps its users and passwords. */
  credentialsFile: string;
  /** The new cluster's data directory (e.g. `<new NMC_DATA_DIR>/pg`); must not exist yet. */
  intoDataDir: string;
  /** RFC 3339; recover up to this moment. Absent: to the end of the archive. */
  targetTime?: string;
  /** A free port for the recovery run. */
  port: number;
  onLog?: (line: string) => void;
};

export type RestoreResult = { dataDir: string; recoveredAt: string; timeline: number };

/** RFC 3339 as recovery_target_time takes it (`2026-12-03 13:43:05.726+00`: no `T`, no `Z`). */
export function postgresTimestamp(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RestoreError(`not a time: ${iso}`);
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00');
}

export async function restoreCluster(input: RestoreInput): Promise<RestoreResult> {
  const cluster = await locateCluster(input.intoDataDir, input.onLog);
  if (existsSync(cluster.dataDir) && (await readdir(cluster.dataDir)).length > 0) {
    throw new RestoreError(`${cluster.dataDir} is not empty: restore into a new data directory`);
  }
  if (!existsSync(join(input.backupDir, 'data', 'backup_label'))) {
    throw new RestoreError(`${input.backupDir} is not a complete base backup (no data/backup_label)`);
  }
  // The parent must stay reachable by the cluster's owner (as initialise does).
  await mkdir(dirname(cluster.dataDir), { recursive: true, mode: 0o755 });
  await mkdir(cluster.dataDir, { recursive: true, mode: 0o700 });
  await cp(join(input.backupDir, 'data'), cluster.dataDir, { recursive: true });
  await writeFile(join(cluster.dataDir, 'recovery.signal'), '');
  await copyFile(input.credentialsFile, cluster.credentialsFile);
  if (cluster.owner) {
    await run('chown', ['-R', `${cluster.owner.uid}:${cluster.owner.gid}`, cluster.dataDir]);
  }

  // Replay runs in a start of its own; startEmbeddedPostgres returns once the server accepts
  // read-write connections, that is after recovery reached its target and promoted.
  const postgres = await startEmbeddedPostgres({
    dataDir: input.intoDataDir,
    port: input.port,
    settings: {
      restore_command: `cp '${input.archiveDir}/%f' %p`,
      recovery_target_action: 'promote',
      ...(input.targetTime ? { recovery_target_time: postgresTimestamp(input.targetTime) } : {}),
      archive_mode: 'off',
    },
    ...(input.onLog ? { onLog: input.onLog } : {}),
  });
  try {
    const client = new pg.Client({ connectionString: postgres.adminUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ recovering: boolean; timeline: number }>(
        'SELECT pg_is_in_recovery() AS recovering, timeline_id AS timeline FROM pg_control_checkpoint()',
      );
      if (rows[0]?.recovering) throw new RestoreError('the restored cluster is still in recovery');
      return {
        dataDir: cluster.dataDir,
        recoveredAt: new Date().toISOString(),
        timeline: rows[0]?.timeline ?? 0,
      };
    } finally {
      await client.end();
    }
  } finally {
    await postgres.stop();
  }
}
