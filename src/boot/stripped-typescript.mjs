import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// `npm start` preloads this file (`node --import`) so the server runs its TypeScript sources with
// their types already stripped. Node's own type stripping works, but the first `.ts` it loads
// brings in its TypeScript parser (a WebAssembly build of swc, ~20 MB resident) and keeps it for
// the life of the process; the server would carry it idle forever to read a few hundred files once.
//
// Instead, a short-lived child process (strip-typescript.mjs) strips every source under src/ into
// a content-addressed cache (node_modules/.cache: per install, never committed), and a module hook
// serves a `.ts` file from that cache when its exact content is there. Nothing else changes:
// module URLs stay the sources' own (`import.meta.url`, relative imports and stack traces are
// those of the `.ts` files; stripping keeps every line and column). A file that is not in the
// cache (edited after start, or a cache that cannot be written) is left to Node, which strips it
// as before: slower to start and larger, never wrong.

const SRC = fileURLToPath(new URL('../', import.meta.url));
const SRC_URL = pathToFileURL(SRC).href;
const CACHE = fileURLToPath(
  new URL('../../node_modules/.cache/nevermisscall/stripped-typescript/', import.meta.url),
);
const STRIPPER = fileURLToPath(new URL('./strip-typescript.mjs', import.meta.url));

const cacheFile = (source) => join(CACHE, `${createHash('sha256').update(source).digest('hex')}.js`);

function cachedNames() {
  try {
    return new Set(readdirSync(CACHE));
  } catch {
    return new Set();
  }
}

/** Strips every TypeScript source under src/ that the cache does not hold yet. */
function warmCache() {
  const byPath = new Map();
  for (const name of readdirSync(SRC, { recursive: true })) {
    if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
    const path = join(SRC, name);
    try {
      byPath.set(path, cacheFile(readFileSync(path)));
    } catch {
      // Gone since the listing (an editor's or a test's temporary file): nothing to strip.
    }
  }
  const present = cachedNames();
  const missing = [...byPath].filter(([, file]) => !present.has(file.slice(CACHE.length)));
  if (missing.length > 0) {
    const input = JSON.stringify(missing.map(([path, file]) => ({ path, file })));
    const child = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', STRIPPER], {
      input,
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    if (child.status !== 0)
      process.stderr.write('stripped-typescript: cache not written; Node strips the sources itself\n');
  }
  // Entries of sources that no longer exist in this form; a process still starting from one of
  // them finds it gone and lets Node strip that file.
  const wanted = new Set([...byPath.values()].map((file) => file.slice(CACHE.length)));
  try {
    for (const name of cachedNames()) if (!wanted.has(name)) rmSync(join(CACHE, name), { force: true });
  } catch {
    // A read-only cache (an image's, stripped at build time) stays as it is.
  }
}

// The cache only saves memory: whatever goes wrong with it, the server still starts.
try {
  warmCache();
} catch (err) {
  process.stderr.write(
    `stripped-typescript: cache not warmed (${err?.message}); Node strips the sources itself\n`,
  );
}

registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith(SRC_URL) && url.endsWith('.ts')) {
      try {
        // Keyed by the file's content as it is now, so an edit since the cache was warmed misses.
        const stripped = readFileSync(cacheFile(readFileSync(fileURLToPath(url))), 'utf8');
        return { format: 'module', source: stripped, shortCircuit: true };
      } catch {
        // Not cached: Node's own type stripping below.
      }
    }
    return nextLoad(url, context);
  },
});
