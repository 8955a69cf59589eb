import { randomBytes } from 'node:crypto';

// Stripe's wire format, as the SDK writes it: form-encoded with bracketed keys
// (`line_items[0][price]=price_1&subscription_data[metadata][plan]=starter`). Parsed into nested
// null-prototype objects, so a hostile key such as `__proto__` stays an ordinary key. Arrays come
// out as objects keyed "0", "1", …; `listOf` reads them back in order.

export type FormValue = string | FormObject;
export type FormObject = { [key: string]: FormValue };

const MAX_DEPTH = 5;

function segmentsOf(key: string): string[] | null {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match?.[1]) return null;
  const rest = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? '');
  const segments = [match[1], ...rest];
  return segments.length > MAX_DEPTH ? null : segments;
}

export function parseStripeForm(raw: string): FormObject {
  const root: FormObject = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw)) {
    const segments = segmentsOf(key);
    if (segments === null) continue;
    let node: FormObject = root;
    segments.forEach((segment, index) => {
      const name = segment === '' ? String(Object.keys(node).length) : segment;
      if (index === segments.length - 1) {
        node[name] = value;
        return;
      }
      const next = node[name];
      if (next !== undefined && typeof next !== 'string') {
        node = next;
        return;
      }
      const created: FormObject = Object.create(null);
      node[name] = created;
      node = created;
    });
  }
  return root;
}

export function textOf(value: FormValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function objectOf(value: FormValue | undefined): FormObject | undefined {
  return value !== undefined && typeof value !== 'string' ? value : undefined;
}

export function listOf(value: FormValue | undefined): FormValue[] {
  const object = objectOf(value);
  if (object === undefined) return value === undefined ? [] : [value];
  return Object.keys(object)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => object[k] as FormValue);
}

/** String metadata (`metadata[key]=value`), as a plain record. */
export function metadataOf(value: FormValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const object = objectOf(value);
  if (object === undefined) return out;
  for (const key of Object.keys(object)) {
    const text = textOf(object[key]);
    if (text !== undefined)
      Object.defineProperty(out, key, { value: text, enumerable: true, writable: true });
  }
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id shaped like Stripe's: a type prefix, an underscore, 24 base62 characters. */
export function newStripeId(prefix: string): string {
  const bytes = randomBytes(24);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${id}`;
}
