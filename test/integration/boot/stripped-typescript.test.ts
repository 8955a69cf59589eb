import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm start` preloads src/boot/stripped-typescript.mjs so the server process never loads Node's
// TypeScript parser (~20 MB resident for its whole life). These run a source module the way the
// server loads its own, and ask Node which of its internal modules came in.

const PRELOAD = './src/boot/stripped-typescript.mjs';
const CACHE = 'node_modules/.cache/nevermisscall/stripped-typescript';
const PROBE = `import('./src/domain/money.ts').then((m) => console.log(JSON.stringify({
  exports: Object.keys(m).sort(),
  parser: process.moduleLoadList.some((name) => name.includes('internal/deps/amaro')),
})))`;

function probe(args: string[]): { exports: string[]; parser: boolean } {
  return JSON.parse(execFileSync(process.execPath, [...args, '-e', PROBE], { encoding: 'utf8' }));
}

describe('stripped TypeScript at start', () => {
  it('runs the sources without loading the TypeScript parser into the process', () => {
    const preloaded = probe(['--import', PRELOAD]);
    expect(preloaded.parser).toBe(false);
    // The same module, as Node strips it itself: the parser is loaded, and the exports agree.
    const plain = probe([]);
    expect(plain.parser).toBe(true);
    expect(preloaded.exports).toEqual(plain.exports);
  });

  it('never serves an older content of a source edited after the cache was warmed', () => {
    const name = `edited-${process.pid}.ts`;
    const path = join('src', 'boot', name);
    writeFileSync(path, 'export const version: number = 1;\n');
    try {
      // The cache is warmed with version 1 at start; the file then changes before it is imported.
      const script = `require('node:fs').writeFileSync(${JSON.stringify(path)}, 'export const version: number = 2;\\n');
        import('./${path}').then((m) => console.log(m.version))`;
      const out = execFileSync(process.execPath, ['--import', PRELOAD, '-e', script], { encoding: 'utf8' });
      expect(out.trim()).toBe('2');
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('starts even when a source vanishes between the listing and its reading', () => {
    // A dangling link is listed and cannot be read: the moment an editor or a test removes a file.
    const path = join('src', 'boot', `vanished-${process.pid}.ts`);
    symlinkSync(`missing-${process.pid}.ts`, path);
    try {
      expect(probe(['--import', PRELOAD]).parser).toBe(false);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('strips again what the cache lost, and serves it from the cache', () => {
    for (const name of readdirSync(CACHE)) rmSync(join(CACHE, name));
    const rebuilt = probe(['--import', PRELOAD]);
    expect(rebuilt.parser).toBe(false);
    expect(readdirSync(CACHE).length).toBeGreaterThan(100);
  });
});
