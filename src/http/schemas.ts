import { z } from 'zod';

// JSON shapes shared by several routes (DESIGN.md "JSON conventions"): snake_case, RFC 3339 UTC
// times, lists as { items, next_cursor }.

export const instant = z.iso.datetime({ offset: true });
export const idParam = z.object({ id: z.uuid() });

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

export const pageQuery = {
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
};

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string): unknown[] | null {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
