import { z } from 'zod';
import { AppError } from '../domain/errors.ts';

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

/**
 * Reads a keyset cursor made by `encodeCursor([instant, key])`: the instant of the last item and
 * its tie-breaking key (an id, or another string when `keyIsUuid` is false). A cursor that is not
 * one of ours is the client's mistake: 400 validation_failed.
 */
export function decodeKeysetCursor(cursor: string, keyIsUuid = true): { at: string; key: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const [at, key] = Array.isArray(parsed) ? parsed : [];
  const validKey = typeof key === 'string' && (!keyIsUuid || z.uuid().safeParse(key).success);
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || !validKey) {
    throw new AppError('validation_failed', 'cursor is not valid');
  }
  return { at, key };
}
