import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBaseBackup } from '../../../src/persistence/backup/base-backup.ts';
import { RestoreError, restoreCluster } from '../../../src/persistence/backup/restore.ts';
import {
  locateCluster,
  type RunningPostgres,
  startEmbeddedPostgres,
} from '../../../src/persistence/embedded-postgres.ts';
import { freePort } from '../../helpers/processes.ts';

// Continuous archiving and point-in-time recovery on a real embedded cluster: a base backup taken
// while it runs, more writes, a destructive mistake (a dropped table), then two restores into new
// data directories — to a moment before the mistake (the rows are there) and to the end of the
// archive (the mistake is there too).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let root: string;
let source: RunningPostgres;
let backupDir: string;
let beforeDrop: string;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Closes the current WAL segment and waits until the archiver has copied it. */
async function archiveNow(url: string): Promise<void> {
  const [{ wal } = { wal: '' }] = await query<{ wal: string }>(
    url,
    'SELECT pg_walfile_name(pg_switch_wal()) AS wal',
  );
  for (let i = 0; i < 100; i++) {
    const [row] = await query<{ last: string | null }>(
      url,
      'SELECT last_archived_wal AS last FROM pg_stat_archiver',
    );
    if (row?.last && row.last >= wal) return;
    await sleep(100);
  }
  throw new Error(`segment ${wal} was not archived`);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'nmc-pitr-'));
  source = await startEmbeddedPostgres({
    dataDir: join(root, 'source', 'pg'),
    port: await freePort(),
    archiveTimeoutSeconds: 60,
    settings: { fsync: 'off' },
  });
  const url = source.adminUrl;
  await query(url, 'CREATE TABLE bookings (n integer PRIMARY KEY)');
  await query(url, 'INSERT INTO bookings SELECT generate_series(1, 100)');
  backupDir = join(root, 'backups', 'first');
  const progress: number[] = [];
  const manifest = await takeBaseBackup({
    adminUrl: url,
    dataDir: source.dataDir,
    target: backupDir,
    onProgress: (p) => progress.push(p.bytes),
  });
  expect(manifest.files).toBeGreaterThan(100);
  expect(progress.at(-1)).toBe(manifest.bytes);

  await query(url, 'INSERT INTO bookings SELECT generate_series(101, 200)');
  await sleep(1_100);
  beforeDrop = new Date().toISOString();
  await sleep(1_100);
  await query(url, 'DROP TABLE bookings');
  await archiveNow(url);
}, 120_000);

afterAll(async () => {
  await source?.stop();
  // Running as root, the clusters live outside `root` (where the postgres user can reach them).
  for (const name of ['source', 'before-drop', 'latest']) {
    const cluster = await locateCluster(join(root, name, 'pg'));
    rmSync(dirname(cluster.dataDir), { recursive: true, force: true });
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

async function restoreInto(name: string, targetTime?: string) {
  const cluster = await locateCluster(join(root, 'source', 'pg'));
  const into = join(root, name, 'pg');
  const result = await restoreCluster({
    backupDir,
    archiveDir: source.archiveDir ?? '',
    credentialsFile: cluster.credentialsFile,
    intoDataDir: into,
    port: await freePort(),
    ...(targetTime ? { targetTime } : {}),
  });
  const restored = await startEmbeddedPostgres({ dataDir: into, port: await freePort() });
  return { result, restored };
}

describe('point-in-time restore', () => {
  it('to a moment before the table was dropped: every row written before that moment is back', async () => {
    const { result, restored } = await restoreInto('before-drop', beforeDrop);
    try {
      expect(result.timeline).toBeGreaterThan(1);
      const rows = await query<{ n: number }>(restored.adminUrl, 'SELECT count(*)::int AS n FROM bookings');
      expect(rows[0]?.n).toBe(200);
      // The restored cluster takes writes: it was promoted, not left in recovery.
      await query(restored.adminUrl, 'INSERT INTO bookings VALUES (201)');
    } finally {
      await restored.stop();
    }
  }, 120_000);

  it('to the end of the archive: the drop is replayed too', async () => {
    const { restored } = await restoreInto('latest');
    try {
      const rows = await query<{ t: string | null }>(
        restored.adminUrl,
        "SELECT to_regclass('bookings')::text AS t",
      );
      expect(rows[0]?.t).toBeNull();
    } finally {
      await restored.stop();
    }
  }, 120_000);

  it('never into a data directory that holds anything', async () => {
    const cluster = await locateCluster(join(root, 'source', 'pg'));
    await expect(
      restoreCluster({
        backupDir,
        archiveDir: source.archiveDir ?? '',
        credentialsFile: cluster.credentialsFile,
        intoDataDir: join(root, 'source', 'pg'),
        port: await freePort(),
      }),
    ).rejects.toBeInstanceOf(RestoreError);
    expect(readdirSync(source.dataDir)).toContain('PG_VERSION');
  });
});
