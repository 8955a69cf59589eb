import { writeFile } from 'node:fs/promises';
import { buildOpenApiDocument } from '../src/http/openapi/offline-document.ts';
import { API_CLIENT_SCHEMA_PATH, renderApiClientTypes } from './api-client-types.ts';

// Writes src/api-client/schema.ts from the app's OpenAPI document, built in-process (no server, no
// database). Run after changing any route's schema; the drift check fails until it is run.

const document = await buildOpenApiDocument();
await writeFile(
  new URL(`../${API_CLIENT_SCHEMA_PATH}`, import.meta.url),
  await renderApiClientTypes(document),
);
console.log(`wrote ${API_CLIENT_SCHEMA_PATH} (${Object.keys(document.paths).length} paths)`);
