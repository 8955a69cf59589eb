import type { ErrorCode } from '../../domain/errors.ts';
import { errorEnvelopeSchema } from '../error-envelope.ts';
import type { OpenApiDocument, OperationObject, ResponseObject } from './document-types.ts';
import { operationsOf } from './document-types.ts';
import { addExamples } from './examples.ts';
import { ERROR_MEANINGS, errorStatusesOf } from './operation-errors.ts';
import { DECLARATION_EXTENSION, type RouteDeclaration } from './route-declaration.ts';

// The whole-document pass, after every route has been described: each operation gets its error
// responses (the one envelope schema), a body-less 204, response descriptions, and the check that
// no two operations share an id. Pure: a document in, the completed document out.

// Imported for its registration: the envelope's schema is published once, in components.
void errorEnvelopeSchema;

const ENVELOPE_REF = { $ref: '#/components/schemas/ErrorEnvelope' };

const RETRY_AFTER = {
  description: 'Seconds to wait before retrying',
  schema: { type: 'integer', minimum: 0 },
};

const SUCCESS_PHRASES: Record<string, string> = {
  '200': 'Done',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'Done; no body',
};

function errorResponse(status: number, codes: readonly string[]): ResponseObject {
  const lines = codes.map(
    (code) => `\`${code}\`: ${ERROR_MEANINGS[code as ErrorCode] ?? code.replaceAll('_', ' ')}`,
  );
  return {
    description: lines.join('; '),
    ...(status === 429 || status === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
    content: { 'application/json': { schema: ENVELOPE_REF } },
  };
}

function describeSuccess(status: string, operation: OperationObject, response: ResponseObject): void {
  if (response.description !== 'Default Response') return;
  const phrase = SUCCESS_PHRASES[status] ?? 'Answer';
  response.description = operation.summary ? `${phrase}: ${operation.summary}` : phrase;
}

export function completeDocument(document: OpenApiDocument): OpenApiDocument {
  const seen = new Map<string, string>();
  for (const { path, method, operation } of operationsOf(document)) {
    const where = `${method.toUpperCase()} ${path}`;
    const declaration = operation[DECLARATION_EXTENSION] as RouteDeclaration | undefined;
    delete operation[DECLARATION_EXTENSION];

    for (const [status, response] of Object.entries(operation.responses)) {
      // A 204 has no body: no content, not a JSON null.
      if (status === '204') delete response.content;
      describeSuccess(status, operation, response);
    }
    // An action's body may be absent (src/http/action-body.ts): a body whose schema takes null is optional.
    const body = operation.requestBody?.content['application/json']?.schema;
    if (operation.requestBody && body?.nullable === true) operation.requestBody.required = false;
    if (declaration) {
      for (const [status, codes] of errorStatusesOf(declaration)) {
        const key = String(status);
        if (!operation.responses[key]) operation.responses[key] = errorResponse(status, codes);
      }
    }

    const id = operation.operationId;
    if (!id) throw new Error(`${where} has no operationId`);
    const other = seen.get(id);
    if (other)
      throw new Error(`${where} and ${other} share the operationId ${id}: declare schema.operationId`);
    seen.set(id, where);
  }
  normalizeNullableReferences(document);
  pruneUnreferencedSchemas(document);
  addExamples(document);
  pruneUnusedSecuritySchemes(document);
  return document;
}

// Every credential the server knows is declared up front (a route's own `schema.security` must
// name one that exists); the document lists only those some operation takes.
function pruneUnusedSecuritySchemes(document: OpenApiDocument): void {
  const schemes = document.components.securitySchemes ?? {};
  const used = new Set(
    operationsOf(document).flatMap(({ operation }) => (operation.security ?? []).flatMap(Object.keys)),
  );
  for (const name of Object.keys(schemes)) if (!used.has(name)) delete schemes[name];
}

// OpenAPI 3.0's `nullable` says nothing without a `type` beside it, and the zod provider writes a
// nullable named schema as `{ nullable: true, allOf: [{ $ref }] }`, and a nullable enum without
// null among its values: a validator then refuses the null, a linter the schema. Written instead as
// "the schema, or exactly null", and as an enum that lists null.
const NULL_ONLY = { type: 'string', nullable: true, enum: [null] };

function normalizeNullableReferences(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) normalizeNullableReferences(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  // An enum is the whole list of allowed values: a nullable one lists null too (OpenAPI 3.0.3).
  if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null))
    schema.enum = [...schema.enum, null];
  if (schema.nullable === true && schema.type === undefined && Array.isArray(schema.allOf)) {
    const [only, ...rest] = schema.allOf as unknown[];
    if (only !== undefined && rest.length === 0) {
      delete schema.nullable;
      delete schema.allOf;
      schema.anyOf = [only, NULL_ONLY];
    }
  }
  for (const value of Object.values(schema)) normalizeNullableReferences(value);
}

// The zod provider registers an input and an output variant of every named schema; a variant that
// no operation uses (the envelope is never a request body) would be listed without meaning anything.
function pruneUnreferencedSchemas(document: OpenApiDocument): void {
  const schemas = document.components.schemas ?? {};
  for (;;) {
    const text = JSON.stringify({ paths: document.paths, components: { ...document.components } });
    const unused = Object.keys(schemas).filter((name) => !text.includes(`"#/components/schemas/${name}"`));
    if (unused.length === 0) return;
    for (const name of unused) delete schemas[name];
  }
}
