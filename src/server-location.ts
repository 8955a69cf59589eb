import { readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Where a running server is, written by `npm start` into its data directory and read by the CLI,
// so that a second terminal finds a server started on other ports with no flags. It holds no
// secret: the database URL is written without its password, and the sandboxes' credentials are
// public constants.

export type ServerLocation = {
  /** null when the process serves no API (NMC_ROLE=worker). */
  api_url: string | null;
  /** What the server believes its public URL is (webhook signatures, the dev issuer's name). */
  public_base_url: string;
  twilio_sandbox_url: string | null;
  stripe_sandbox_url: string | null;
  database_url: string;
  pid: number;
  started_at: string;
};

export function serverLocationFile(dataDir: string): string {
  return join(dataDir, 'server.json');
}

export function withoutPassword(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    url.password = '';
    return url.toString();
  } catch {
    return 'unparsable database URL';
  }
}

/** Written to a temporary name and renamed, so a reader never sees half a file. */
export async function writeServerLocation(dataDir: string, location: ServerLocation): Promise<void> {
  const file = serverLocationFile(dataDir);
  await mkdir(dataDir, { recursive: true });
  await writeFile(`${file}.${location.pid}.tmp`, `${JSON.stringify(location, null, 2)}\n`, { mode: 0o644 });
  await rename(`${file}.${location.pid}.tmp`, file);
}

/**
 * Removes the file if this process wrote it; a second server that failed to start (a busy port)
 * must not remove the first one's. Synchronous, so it can run in an `exit` handler.
 */
export function removeServerLocation(dataDir: string, pid: number): void {
  const file = serverLocationFile(dataDir);
  try {
    const written = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServerLocation>;
    if (written.pid === pid) rmSync(file, { force: true });
  } catch {
    // no file, or not ours to judge
  }
}

/** The location a server wrote, or null when there is none (never started, or stopped cleanly). */
export async function readServerLocation(dataDir: string): Promise<ServerLocation | null> {
  let text: string;
  try {
    text = await readFile(serverLocationFile(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as ServerLocation;
    return typeof parsed.public_base_url === 'string' ? parsed : null;
  } catch {
    return null;
  }
}
