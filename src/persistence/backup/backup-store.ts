import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupManifest } from './base-backup.ts';

// The base backups under one directory (one folder each, named by the time it was taken) and the
// pruning of what no kept backup needs: older backups, and archived WAL segments before the oldest
// kept backup's start.

export type StoredBackup = { name: string; dir: string; manifest: BackupManifest };

/** Complete backups, oldest first (a folder without backup.json was interrupted). */
export async function listBackups(root: string): Promise<StoredBackup[]> {
  if (!existsSync(root)) return [];
  const found: StoredBackup[] = [];
  for (const name of (await readdir(root)).sort()) {
    const dir = join(root, name);
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'backup.json'), 'utf8')) as BackupManifest;
      found.push({ name, dir, manifest });
    } catch {
      // incomplete: not a backup
    }
  }
  return found;
}

/** The newest backup that ended before `time` (the newest of all without one); null if none. */
export function backupFor(backups: readonly StoredBackup[], time?: string): StoredBackup | null {
  const before = time === undefined ? backups : backups.filter((b) => b.manifest.finished_at <= time);
  return before[before.length - 1] ?? null;
}

/** The WAL file a backup starts from, read from its backup_label. */
export async function startWalFile(backup: StoredBackup): Promise<string | null> {
  const label = await readFile(join(backup.dir, 'data', 'backup_label'), 'utf8');
  return /START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)/.exec(label)?.[1] ?? null;
}

/** Keeps the newest `keep` backups and the WAL they need; returns what was removed. */
export async function pruneBackups(
  root: string,
  archiveDir: string,
  keep: number,
): Promise<{ backups: number; segments: number }> {
  const backups = await listBackups(root);
  const removed = backups.slice(0, Math.max(0, backups.length - keep));
  for (const backup of removed) await rm(backup.dir, { recursive: true, force: true });
  const oldest = backups[removed.length];
  const firstNeeded = oldest ? await startWalFile(oldest) : null;
  let segments = 0;
  if (firstNeeded && existsSync(archiveDir)) {
    for (const name of await readdir(archiveDir)) {
      // Segment names order by timeline, then position; history files are always kept.
      if (/^[0-9A-F]{24}(\.partial)?$/.test(name) && name.slice(0, 24) < firstNeeded) {
        await rm(join(archiveDir, name), { force: true });
        segments += 1;
      }
    }
  }
  return { backups: removed.length, segments };
}
