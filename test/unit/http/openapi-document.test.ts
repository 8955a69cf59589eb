import { beforeAll, describe, expect, it } from 'vitest';
import { type OpenApiDocument, operationsOf } from '../../../src/http/openapi/document-types.ts';
import { buildOpenApiDocument } from '../../../src/http/openapi/offline-document.ts';

// What every operation of the published document must say, whoever added it: an id, its
// credential (or explicitly none), its error answers with the one envelope, a body-less 204, and an
// example for every request and response body (the lint checks each example against its schema).

let doc: OpenApiDocument;
beforeAll(async () => {
  doc = await buildOpenApiDocument();
}, 30_000);

describe('the published OpenAPI document', () => {
  it('gives every operation an id, its security and its errors with the envelope', () => {
    const wrong: string[] = [];
    for (const { path, method, operation } of operationsOf(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!operation.operationId) wrong.push(`${where}: no operationId`);
      if (!Array.isArray(operation.security)) wrong.push(`${where}: no security`);
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      if (errors.length === 0) wrong.push(`${where}: no error response`);
      for (const [status, response] of errors) {
        const schema = response.content?.['application/json']?.schema;
        const isEnvelope = schema?.$ref === '#/components/schemas/ErrorEnvelope';
        // The readiness probe's 503 is its own report, not an error.
        if (!isEnvelope && !(path === '/readyz' && status === '503'))
          wrong.push(`${where}: ${status} is not the error envelope`);
      }
      if (operation.responses['204']?.content) wrong.push(`${where}: 204 declares a body`);
    }
    expect(wrong).toEqual([]);
  });

  it('has an example for every request and response body', () => {
    const missing = operationsOf(doc).flatMap(({ path, method, operation }) =>
      [
        ...Object.entries(operation.requestBody?.content ?? {}).map(([type, media]) => ({
          at: `request ${type}`,
          media,
        })),
        ...Object.entries(operation.responses).flatMap(([status, response]) =>
          Object.entries(response.content ?? {}).map(([type, media]) => ({ at: `${status} ${type}`, media })),
        ),
      ]
        .filter(({ media }) => media.example === undefined && media.examples === undefined)
        .map(({ at }) => `${method.toUpperCase()} ${path} ${at}`),
    );
    expect(missing).toEqual([]);
  });

  it('names the server from PUBLIC_BASE_URL', async () => {
    const served = await buildOpenApiDocument({ PUBLIC_BASE_URL: 'https://nmc.example.com' });
    expect(served.servers).toEqual([{ url: 'https://nmc.example.com' }]);
  }, 30_000);
});
