import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Config } from '../../config.ts';
import { completeDocument } from './complete-document.ts';
import type { OpenApiDocument } from './document-types.ts';
import { deriveOperationId } from './operation-id.ts';
import { SECURITY_SCHEMES, securityOf } from './operation-security.ts';
import { DECLARATION_EXTENSION, declarationOf } from './route-declaration.ts';

// The options of @fastify/swagger for /openapi.json: each route's zod schemas turned into JSON
// Schema (fastify-type-provider-zod), then what the route's declarations say about it (its id, its
// credential, its errors), then the whole-document pass. Nothing here is written per route: a new
// route is published completely by declaring its schemas and config.

type Transform = NonNullable<FastifyDynamicSwaggerOptions['transform']>;
type TransformObject = NonNullable<FastifyDynamicSwaggerOptions['transformObject']>;

const describeRoute: Transform = (input) => {
  const transformed = jsonSchemaTransform(input as Parameters<typeof jsonSchemaTransform>[0]);
  const schema = transformed.schema as Record<string, unknown> | undefined;
  if (!schema || schema.hide) return transformed;
  const { route } = input;
  const method = [route.method].flat().find((m) => m !== 'HEAD') ?? 'GET';
  const declaration = declarationOf(route, method);
  schema.operationId ??= deriveOperationId(method, route.url);
  schema.security ??= securityOf(declaration);
  schema[DECLARATION_EXTENSION] = declaration;
  return transformed;
};

const completeObject: TransformObject = (input) => {
  const document = jsonSchemaTransformObject(input as Parameters<typeof jsonSchemaTransformObject>[0]);
  return completeDocument(document as unknown as OpenApiDocument) as unknown as ReturnType<TransformObject>;
};

export function openApiOptions(config: Config, version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'NeverMissCall API',
        version,
        description:
          "Turns a small business's missed calls into booked appointments over SMS. Every error answers " +
          'the one envelope `{ error: { code, message, correlation_id } }`; lists answer `{ items, next_cursor }` ' +
          'with an opaque cursor; times are RFC 3339. Text anywhere in a request refuses NUL and unpaired ' +
          'surrogates (400). A known path called with a method it does not have answers 405 with `Allow`.',
      },
      servers: [{ url: config.PUBLIC_BASE_URL }],
      components: { securitySchemes: structuredClone(SECURITY_SCHEMES) as never },
    },
    transform: describeRoute,
    transformObject: completeObject,
  };
}
