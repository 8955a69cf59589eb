import fc from 'fast-check';

// Values at the edges of what a JSON schema (as the OpenAPI document publishes a route's input)
// allows: the smallest and largest integers, 0, the longest strings, astral characters and NUL,
// the first and last representable dates, empty and full arrays, with a little randomness between
// them. Each leaf is an edge one time in three and an ordinary value otherwise (see extremesOf), so
// a bounded number of requests gets past the first check and still covers what breaks code.

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  nullable?: boolean;
};

export type ExtremeContext = {
  /** Resolves `#/components/schemas/…` references. */
  resolve(ref: string): JsonSchema;
  /** Real ids to mix in for a uuid field of this name (so a request reaches past "not found"). */
  idsFor(fieldName: string): string[];
  /** Hand-made values for a string field of this name (e.g. keyset cursors), mixed in with the rest. */
  stringsFor?(fieldName: string): string[];
  /** The ordinary value of a field of this name, when its schema alone cannot tell (a time zone). */
  tameFor?(fieldName: string, schema: JsonSchema): unknown;
};

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const SOME_UUID = '5b0e3c1a-6a59-4c2e-9d3e-2f6f8d1b7a40';

const EXTREME_DATES = ['0000-01-01', '0000-02-29', '0001-01-01', '1970-01-01', '2024-02-29', '9999-12-31'];

export const EXTREME_INSTANTS = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  // Valid-looking, but the offset moves them outside years 0001–9999 in UTC.
  '0001-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59-01:00',
  '9999-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00Z',
  '2026-01-01T00:00:00.123456789+23:59',
  '2030-06-15T12:00:00-00:00',
];

// Candidates for patterned strings: whichever of them the pattern accepts are used.
const PATTERN_CANDIDATES = [
  '0',
  '9',
  '999999999999999',
  '000000000000000',
  '+999999999999999',
  '+10000000000',
  '00:00',
  '23:59',
  '24:00',
  '99-9999999',
  '00-0000000',
  'a0',
  `a${'-'.repeat(62)}`,
  `z${'9'.repeat(62)}`,
];

function stringCandidates(min: number, max: number): string[] {
  const longest = Math.min(max, 10_000);
  const all = [
    '',
    'x'.repeat(Math.max(min, 1)),
    'a'.repeat(longest),
    // Astral characters: two UTF-16 units each, one code point, four UTF-8 bytes.
    '😀'.repeat(Math.floor(longest / 2)),
    `${'a'.repeat(Math.max(0, longest - 1))}😀`.slice(0, longest),
    'a\u0000b'.padEnd(Math.max(min, 3), 'x'),
    ' '.repeat(Math.max(min, 1)),
    '\u202Eevil\u200B'.padEnd(Math.max(min, 6), 'x'),
    "'; DROP TABLE x; --".padEnd(min, 'x'),
    '%00%ff\\'.padEnd(min, 'x'),
    '\uD800'.padEnd(Math.max(min, 1), 'x'),
    'Ω̃'.repeat(Math.max(1, Math.ceil(min / 2))),
  ];
  return [...new Set(all.filter((s) => s.length >= min && s.length <= max))];
}

function integerCandidates(min: number, max: number): number[] {
  const all = [
    min,
    max,
    0,
    1,
    -1,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ];
  return [...new Set(all.filter((n) => Number.isFinite(n) && n >= min && n <= max))];
}

function mostlyEdges<T>(edges: T[], between?: fc.Arbitrary<T>): fc.Arbitrary<T> {
  if (edges.length === 0 && between) return between;
  const pick = fc.constantFrom(...edges);
  return between ? fc.oneof({ arbitrary: pick, weight: 4 }, { arbitrary: between, weight: 1 }) : pick;
}

function uuidArbitrary(name: string, ctx: ExtremeContext): fc.Arbitrary<string> {
  return mostlyEdges([...ctx.idsFor(name), NIL_UUID, MAX_UUID, SOME_UUID], fc.uuid());
}

function stringArbitrary(schema: JsonSchema, name: string, ctx: ExtremeContext): fc.Arbitrary<string> {
  const special = ctx.stringsFor?.(name) ?? [];
  const generic = genericStringArbitrary(schema, name, ctx);
  return special.length === 0 ? generic : fc.oneof(fc.constantFrom(...special), generic);
}

function genericStringArbitrary(schema: JsonSchema, name: string, ctx: ExtremeContext): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 10_000;
  switch (schema.format) {
    case 'uuid':
      return uuidArbitrary(name, ctx);
    case 'date':
      return fc.constantFrom(...EXTREME_DATES);
    case 'date-time':
      return fc.constantFrom(...EXTREME_INSTANTS);
    case 'email': {
      const local = 'a'.repeat(64);
      const long = `${local}@${'b'.repeat(Math.max(1, Math.min(63, max - local.length - 6)))}.com`;
      return fc.constantFrom('a@b.co', long.length <= max ? long : 'a@b.co', 'ü@例え.jp'.normalize());
    }
    case 'uri': {
      const base = 'https://example.com/';
      return fc.constantFrom(
        'https://example.com',
        `${base}${'a'.repeat(Math.max(0, max - base.length))}`,
        'http://[::1]:65535/😀?q=%00',
        'https://xn--e1afmkfd.xn--p1ai/',
      );
    }
  }
  if (schema.pattern) {
    const re = new RegExp(schema.pattern);
    const fits = (s: string) => re.test(s) && s.length >= min && s.length <= max;
    const edges = [...PATTERN_CANDIDATES, ...stringCandidates(min, max)].filter(fits);
    return mostlyEdges(edges, fc.stringMatching(re).filter(fits));
  }
  return mostlyEdges(
    stringCandidates(min, max),
    fc.string({ minLength: min, maxLength: Math.min(max, 40), unit: 'binary' }),
  );
}

function numberBound(value: number | boolean | undefined, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/**
 * An arbitrary of values for `schema`. Each leaf is an ordinary value two times in three and an
 * edge otherwise, so most requests carry one or two edges among plausible values and get past the
 * first check to the code behind it. `name` is the field's name (for ids and hand-made strings).
 */
export function extremesOf(schema: JsonSchema, ctx: ExtremeContext, name = ''): fc.Arbitrary<unknown> {
  if (schema.$ref) return extremesOf(ctx.resolve(schema.$ref), ctx, name);
  const base = baseArbitrary(schema, ctx, name);
  const tame = isLeaf(schema) ? tameOf(schema, ctx, name) : undefined;
  const mixed =
    tame === undefined
      ? base
      : fc.oneof({ arbitrary: fc.constant(tame), weight: 2 }, { arbitrary: base, weight: 1 });
  return schema.nullable ? fc.oneof(fc.constant(null), mixed) : mixed;
}

function isLeaf(schema: JsonSchema): boolean {
  return (
    !schema.oneOf && !schema.anyOf && !schema.allOf && schema.type !== 'object' && schema.type !== 'array'
  );
}

const TOMORROW_NOON = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 43_200_000);

/** An ordinary value of a leaf schema: what a well-behaved client would send. */
function tameOf(schema: JsonSchema, ctx: ExtremeContext, name: string): unknown {
  const named = ctx.tameFor?.(name, schema);
  if (named !== undefined) return named;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'boolean') return true;
  if (type === 'integer' || type === 'number') {
    const min = numberBound(schema.minimum, 1);
    const max = numberBound(schema.maximum, 100);
    return Math.min(Math.max(25, min), max);
  }
  if (type !== 'string') return undefined;
  const special = ctx.stringsFor?.(name)?.[0];
  if (special !== undefined && name !== 'cursor') return special;
  switch (schema.format) {
    case 'uuid':
      return ctx.idsFor(name)[0] ?? SOME_UUID;
    case 'date':
      return TOMORROW_NOON.toISOString().slice(0, 10);
    case 'date-time':
      return TOMORROW_NOON.toISOString();
    case 'email':
      return 'owner@example.com';
    case 'uri':
      return 'https://example.com/back';
  }
  const min = schema.minLength ?? 0;
  if (schema.pattern) {
    const re = new RegExp(schema.pattern);
    return PATTERN_CANDIDATES.find((c) => re.test(c) && c.length >= min) ?? undefined;
  }
  return 'Plain words'.padEnd(min, '.').slice(0, schema.maxLength ?? 100);
}

function baseArbitrary(schema: JsonSchema, ctx: ExtremeContext, name: string): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) return fc.oneof(...branches.map((b) => extremesOf(b, ctx, name)));
  if (schema.allOf?.[0]) return extremesOf(schema.allOf[0], ctx, name);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return stringArbitrary(schema, name, ctx);
    case 'integer': {
      const min =
        numberBound(schema.exclusiveMinimum, numberBound(schema.minimum, -Number.MAX_SAFE_INTEGER) - 1) + 1;
      const max =
        numberBound(schema.exclusiveMaximum, numberBound(schema.maximum, Number.MAX_SAFE_INTEGER) + 1) - 1;
      return mostlyEdges(
        integerCandidates(min, max),
        fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }),
      );
    }
    case 'number': {
      const min = numberBound(schema.minimum, -Number.MAX_VALUE);
      const max = numberBound(schema.maximum, Number.MAX_VALUE);
      const edges = [min, max, 0, 0.5, Number.MIN_VALUE, 1e308, -1e308].filter((n) => n >= min && n <= max);
      return mostlyEdges(edges, fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = schema.items ? extremesOf(schema.items, ctx, name) : fc.constant('x');
      const minItems = schema.minItems ?? 0;
      const maxItems = Math.min(schema.maxItems ?? 50, 50);
      return fc.oneof(
        fc.array(item, { minLength: minItems, maxLength: minItems }),
        fc.array(item, { minLength: maxItems, maxLength: maxItems }),
        fc.array(item, { minLength: minItems, maxLength: Math.min(maxItems, 3) }),
      );
    }
    case 'object':
      return objectArbitrary(schema, ctx);
    default:
      return fc.constantFrom<unknown>('', 0, null, true, {}, []);
  }
}

function objectArbitrary(schema: JsonSchema, ctx: ExtremeContext): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : null;
  if (names.length === 0 && extra) {
    const keys = schema.propertyNames?.enum?.map(String) ?? ['1', '7', 'x', '__proto__'];
    return fc.dictionary(fc.constantFrom(...keys), extremesOf(extra, ctx), { maxKeys: keys.length });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const n of names) model[n] = extremesOf(properties[n] ?? {}, ctx, n);
  return fc.record(model, {
    requiredKeys: (schema.required ?? []).filter((n) => n in model),
  }) as fc.Arbitrary<Record<string, unknown>>;
}
