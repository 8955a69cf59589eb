import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import pg from 'pg';

// A base backup of a running cluster by Postgres's own low-level API: pg_backup_start, a copy of
// the data directory while the server keeps running, pg_backup_stop (which waits until the WAL the
// copy needs is archived) and its backup_label written into the copy. With the WAL archive, the
// copy restores to any moment after the backup ended (restore.ts).

/** What a base backup leaves beside its `data/` copy. */
export type BackupManifest = {
  label: string;
  started_at: string;
  finished_at: string;
  start_lsn: string;
  stop_lsn: string;
  files: number;
  bytes: number;
  server_version: string;
};

export type CopyProgress = { files: number; bytes: number; totalBytes: number };

// Contents the server recreates or that belong to the running instance only (Postgres's list of
// what a base backup leaves out); their directories are kept, empty.
const EMPTIED = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);
const SKIPPED = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'recovery.signal',
  'standby.signal',
  'backup_label.old',
]);

type Entry = { path: string; size: number } | { dir: string };

async function walk(root: string, dir = root, out: Entry[] = []): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out; // dropped while we copy
    throw err;
  }
  for (const name of names) {
    const path = join(dir, name);
    const rel = relative(root, path);
    if (dir === root && SKIPPED.has(name)) continue;
    if (name.startsWith('pgsql_tmp')) continue;
    const info = await stat(path).catch(() => null);
    if (info === null) continue;
    if (info.isDirectory()) {
      out.push({ dir: rel });
      if (!(dir === root && EMPTIED.has(name))) await walk(root, path, out);
      else if (name === 'pg_wal') out.push({ dir: join(rel, 'archive_status') });
    } else if (info.isFile()) {
      out.push({ path: rel, size: info.size });
    }
  }
  return out;
}

/** Takes a base backup of the cluster at `dataDir` (reached at `adminUrl`) into `target/data`. */
export async function takeBaseBackup(input: {
  adminUrl: string;
  dataDir: string;
  target: string;
  label?: string;
  onProgress?: (progress: CopyProgress) => void;
}): Promise<BackupManifest> {
  const label = input.label ?? `nmc ${new Date().toISOString()}`;
  const client = new pg.Client({ connectionString: input.adminUrl });
  await client.connect();
  try {
    const startedAt = new Date().toISOString();
    const version = (await client.query<{ v: string }>('SHOW server_version')).rows[0]?.v ?? '';
    // fast = true: an immediate checkpoint instead of waiting for the next one.
    const start = await client.query<{ lsn: string }>('SELECT pg_backup_start($1, true) AS lsn', [label]);
    let copied: { files: number; bytes: number };
    try {
      copied = await copyDataDirectory(input.dataDir, join(input.target, 'data'), input.onProgress);
    } catch (err) {
      await client.query('SELECT pg_backup_stop(false)').catch(() => undefined);
      throw err;
    }
    // wait_for_archive = true: the backup is usable only once the WAL it needs is in the archive.
    const stop = await client.query<{ lsn: string; labelfile: string; spcmapfile: string | null }>(
      'SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(true)',
    );
    const stopped = stop.rows[0];
    if (!stopped) throw new Error('pg_backup_stop returned nothing');
    await writeFile(join(input.target, 'data', 'backup_label'), stopped.labelfile, { mode: 0o600 });
    if (stopped.spcmapfile) {
      await writeFile(join(input.target, 'data', 'tablespace_map'), stopped.spcmapfile, { mode: 0o600 });
    }
    const manifest: BackupManifest = {
      label,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      start_lsn: start.rows[0]?.lsn ?? '',
      stop_lsn: stopped.lsn,
      files: copied.files,
      bytes: copied.bytes,
      server_version: version,
    };
    await writeFile(join(input.target, 'backup.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    await client.end();
  }
}

async function copyDataDirectory(
  from: string,
  to: string,
  onProgress?: (progress: CopyProgress) => void,
): Promise<{ files: number; bytes: number }> {
  const entries = await walk(from);
  const totalBytes = entries.reduce((sum, e) => sum + ('size' in e ? e.size : 0), 0);
  await mkdir(to, { recursive: true, mode: 0o700 });
  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    if ('dir' in entry) {
      await mkdir(join(to, entry.dir), { recursive: true, mode: 0o700 });
      continue;
    }
    try {
      await copyFile(join(from, entry.path), join(to, entry.path));
    } catch (err) {
      // A relation dropped during the copy: WAL replay knows it is gone.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    files += 1;
    bytes += entry.size;
    onProgress?.({ files, bytes, totalBytes });
  }
  return { files, bytes };
}
