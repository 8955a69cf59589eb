import type { OpenApiDocument, SchemaObject } from './document-types.ts';
import { operationsOf } from './document-types.ts';

// An example for every JSON request body and response that has none, made from its schema: the
// schema's own `example` where it has one (an instant, a zone, the error envelope…), otherwise a
// value built from its types, formats, enums and bounds. So /docs shows a filled-in request a person
// can try. A schema this cannot satisfy (a pattern no sample matches) gets no example rather than a
// wrong one; the lint (`no-invalid-media-type-examples`) checks every example against its schema.

const SAMPLE_STRINGS: readonly string[] = [
  '+13105550142',
  '08:00',
  'demo',
  'America/Los_Angeles',
  `CA${'0'.repeat(31)}1`,
  `SM${'0'.repeat(31)}1`,
  'ABCDEFGHJK23',
  '42',
  '2026-12-04',
  '12-3456789',
  '424242',
  '415',
  'https://example.com',
];

const FORMATS: Record<string, string> = {
  uuid: '3f1c2b7e-8a4d-4c6f-9b2e-1d5a7c9e0f42',
  'date-time': '2026-12-04T17:00:00Z',
  date: '2026-12-04',
  email: 'owner@example.com',
  uri: 'https://example.com/return',
};

/** Thrown (and caught by `exampleFor`) when no value satisfies a part of the schema. */
class NoExample extends Error {}

function stringExample(schema: SchemaObject): string {
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : null;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  const fits = (value: string) =>
    value.length >= min && value.length <= max && (pattern === null || pattern.test(value));
  const candidates = [
    ...(format ? [format] : []),
    ...(pattern ? SAMPLE_STRINGS : ['example'.padEnd(min, 'x').slice(0, Math.max(min, Math.min(7, max)))]),
  ];
  const found = candidates.find(fits);
  if (found === undefined) throw new NoExample();
  return found;
}

function numberExample(schema: SchemaObject): number {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const value = min ?? (max !== undefined ? Math.min(max, 1) : 1);
  return schema.type === 'integer' ? Math.ceil(value) : value;
}

function build(schema: SchemaObject, resolve: (ref: string) => SchemaObject, depth: number): unknown {
  if (depth > 12) throw new NoExample();
  if (schema.example !== undefined) return schema.example;
  if (typeof schema.$ref === 'string') return build(resolve(schema.$ref), resolve, depth + 1);
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) {
    const value = schema.enum.find((v) => v !== null);
    return value === undefined ? null : value;
  }
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      const first = (options as SchemaObject[]).find(
        (o) => !(Array.isArray(o.enum) && o.enum.length === 1 && o.enum[0] === null),
      );
      if (!first) return null;
      return build(first, resolve, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign(
      {},
      ...(schema.allOf as SchemaObject[]).map((part) => build(part, resolve, depth + 1)),
    );
  }
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, SchemaObject>;
      return Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, build(property, resolve, depth + 1)]),
      );
    }
    case 'array': {
      const items = (schema.items ?? {}) as SchemaObject;
      const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
      const max = typeof schema.maxItems === 'number' ? schema.maxItems : min;
      const item = build(items, resolve, depth + 1);
      return Array.from({ length: Math.min(Math.max(min, 1), max) }, () => item);
    }
    case 'string':
      return stringExample(schema);
    case 'integer':
    case 'number':
      return numberExample(schema);
    case 'boolean':
      return true;
    default:
      if (schema.nullable === true) return null;
      return {};
  }
}

/** An example satisfying `schema`, or undefined when none could be made. */
export function exampleFor(schema: SchemaObject, resolve: (ref: string) => SchemaObject): unknown {
  try {
    return build(schema, resolve, 0);
  } catch (err) {
    if (err instanceof NoExample) return undefined;
    throw err;
  }
}

export function addExamples(document: OpenApiDocument): void {
  const schemas = document.components.schemas ?? {};
  const resolve = (ref: string) => schemas[ref.split('/').pop() ?? ''] ?? {};
  for (const { operation } of operationsOf(document)) {
    const media = [
      ...Object.values(operation.requestBody?.content ?? {}),
      ...Object.values(operation.responses).flatMap((response) => Object.values(response.content ?? {})),
    ];
    for (const item of media) {
      if (item.example !== undefined || item.examples !== undefined || !item.schema) continue;
      const example = exampleFor(item.schema, resolve);
      if (example !== undefined) item.example = example;
    }
  }
}
