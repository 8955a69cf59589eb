// npm checks `engines` against the Node that runs npm (the machine's), but every npm script of this
// project runs on the Node that `npm ci` installs (the `node` package). This check compares every
// installed package's `engines.node` with the Node that will actually run it, and fails the install
// when one does not fit, so an incompatible dependency is never ignored silently.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

const runtime = process.version;
const problems = [];

function visit(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      visit(full);
      continue;
    }
    const manifest = join(full, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      const range = pkg.engines?.node;
      if (typeof range === 'string' && !semver.satisfies(runtime, range, { includePrerelease: true })) {
        problems.push(`${pkg.name}@${pkg.version} wants node ${range}`);
      }
    }
    visit(join(full, 'node_modules'));
  }
}

visit('node_modules');
if (!runtime.startsWith('v24.')) {
  problems.unshift(`the project runs on Node 24 from the "node" package, but this is ${runtime}`);
}
if (problems.length > 0) {
  console.error(`engines check failed for ${runtime}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`engines check: every installed package accepts node ${runtime}`);
