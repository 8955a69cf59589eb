import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../src/http/openapi/offline-document.ts';

// Lints the OpenAPI document the app serves with Redocly's rules (redocly.yaml): the document is
// built in-process (no server, no database) and written where the config's `apis` entry reads it.
// Offline: Redocly's telemetry and update check are switched off. Exits with the linter's status.

const root = fileURLToPath(new URL('..', import.meta.url));
const target = new URL('../node_modules/.cache/nevermisscall/openapi.json', import.meta.url);
await mkdir(new URL('.', target), { recursive: true });
await writeFile(target, `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`);

const result = spawnSync(
  fileURLToPath(new URL('../node_modules/.bin/redocly', import.meta.url)),
  ['lint', 'nevermisscall', '--format=stylish'],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  },
);
process.exit(result.status ?? 1);
