import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_CLIENT_SCHEMA_PATH, renderApiClientTypes } from '../../../scripts/api-client-types.ts';
import { buildOpenApiDocument } from '../../../src/http/openapi/offline-document.ts';

// The committed client types are what the generator makes from today's document: a route whose
// schema changed without `npm run generate:api-client` fails here, before a client is wrong about it.

describe('the generated API client', () => {
  it('matches a fresh generation from the OpenAPI document', async () => {
    const committed = await readFile(new URL(`../../../${API_CLIENT_SCHEMA_PATH}`, import.meta.url), 'utf8');
    const fresh = await renderApiClientTypes(await buildOpenApiDocument());
    expect(
      committed === fresh,
      `${API_CLIENT_SCHEMA_PATH} is stale: run \`npm run generate:api-client\` and commit the result`,
    ).toBe(true);
  }, 30_000);
});
