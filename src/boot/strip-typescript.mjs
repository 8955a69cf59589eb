import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname } from 'node:path';

// Run by stripped-typescript.mjs in a child process, so the TypeScript parser Node loads for it
// goes away with this process. Reads `[{ path, file }]` on stdin and writes each source, its types
// replaced by spaces (lines and columns unchanged), to `file`, through a rename so a concurrent
// reader sees the whole file or none.

const jobs = JSON.parse(readFileSync(0, 'utf8'));
for (const { path, file } of jobs) {
  let source;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    continue; // Gone since the parent listed it: nothing to strip.
  }
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, stripTypeScriptTypes(source, { mode: 'strip' }));
  renameSync(temporary, file);
}
