import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The web app's build (web/, bundled by Vite into web/dist), made when it is missing or stale so
// a fresh clone's `npm ci && npm start` serves the app with no third command. Stale means: the
// hash of the app's sources (web/ without dist, the generated API client it imports, and the
// lock file that fixes its libraries' versions) differs from the one the build recorded. The
// build output is never committed (.gitignore).

export const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));
export const WEB_DIST = join(WEB_ROOT, 'dist');
const HASH_FILE = '.source-hash';
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCES = [WEB_ROOT, join(REPO_ROOT, 'src', 'api-client'), join(REPO_ROOT, 'package-lock.json')];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name !== 'dist' && name !== 'node_modules' && !name.startsWith('.'))
    .sort()
    .flatMap((name) => files(join(path, name)));
}

export function webSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap(files)) {
    hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export async function builtHash(): Promise<string | null> {
  return readFile(join(WEB_DIST, HASH_FILE), 'utf8').catch(() => null);
}

/** Builds web/ into web/dist unless the current build is of the same sources. */
export async function ensureWebBuild(
  log: (line: string) => void = () => undefined,
): Promise<'fresh' | 'built'> {
  const hash = webSourceHash();
  if ((await builtHash()) === hash) return 'fresh';
  log('building the web app (web/ changed since the last build)…');
  const started = Date.now();
  // Into a directory of its own, then moved into place: a concurrent start never serves half a build.
  const temporary = join(WEB_ROOT, `.dist-${process.pid}-${Date.now()}`);
  const { build } = await import('vite');
  try {
    await build({
      configFile: join(WEB_ROOT, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: temporary, emptyOutDir: true },
    });
    await writeFile(join(temporary, HASH_FILE), hash);
    if ((await builtHash()) !== hash) {
      await rm(WEB_DIST, { recursive: true, force: true });
      await mkdir(WEB_ROOT, { recursive: true });
      await rename(temporary, WEB_DIST).catch(async (err: unknown) => {
        // Another process moved the same build into place first.
        if ((await builtHash()) !== hash) throw err;
      });
    }
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  log(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 'built';
}

/**
 * ensureWebBuild for the server: the build itself runs in a child process (scripts/build-web.ts),
 * so the server never loads Vite and its memory stays what serving needs (an in-process build left
 * the server at ~320 MB for the rest of its life).
 */
export async function ensureWebBuildInChild(
  log: (line: string) => void = () => undefined,
): Promise<'fresh' | 'built'> {
  if ((await builtHash()) === webSourceHash()) return 'fresh';
  log('building the web app (web/ changed since the last build)…');
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'build-web.ts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `the web build ended with ${signal ?? `code ${code}`}: ${output.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
    });
  });
  log(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 'built';
}
