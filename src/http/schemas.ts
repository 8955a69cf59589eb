import { z } from 'zod';
import { AppError } from '../domain/errors.ts';

// JSON shapes shared by several routes (DESIGN.md "JSON conventions"): snake_case, RFC 3339 UTC
// times, lists as { items, next_cursor }.

// Years 0001–9999, in UTC: what Postgres stores and what RFC 3339's four-digit year can say. Zod's
// ISO formats accept year 0000 (Postgres refuses it: there is no year zero) and an offset can move
// an instant written as 0001-01-01 or 9999-12-31 outside the range; both would reach the database
// and fail there as a 500.
const FIRST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

// RFC 3339 allows offsets up to ±23:59; Postgres refuses beyond ±15:59 and no place on Earth is
// further from UTC than ±14:00.
const OFFSET = /([+-])(\d{2}):(\d{2})$/;

function withinStorableYears(iso: string): boolean {
  const ms = Date.parse(iso);
  return ms >= FIRST_INSTANT_MS && ms <= LAST_INSTANT_MS;
}

function realOffset(iso: string): boolean {
  const m = OFFSET.exec(iso);
  return m === null || Number(m[2]) * 60 + Number(m[3]) <= 14 * 60;
}

/** An RFC 3339 instant with its offset (`Z` or `±HH:MM` up to ±14:00), in years 0001–9999 in UTC. */
export const instant = z.iso
  .datetime({ offset: true })
  .refine(realOffset, 'the offset must be at most ±14:00')
  .refine(withinStorableYears, 'must be between years 0001 and 9999')
  .describe('an RFC 3339 instant with its offset (Z or ±HH:MM, at most ±14:00), years 0001–9999 in UTC')
  .meta({ example: '2026-12-04T17:00:00Z' });

/** A calendar date `YYYY-MM-DD`, years 0001–9999. */
export const calendarDate = z.iso
  .date()
  .refine((date) => !date.startsWith('0000'), 'must be between years 0001 and 9999')
  .describe('a calendar date YYYY-MM-DD, years 0001–9999')
  .meta({ example: '2026-12-04' });
export const idParam = z.object({ id: z.uuid() });

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next_cursor: z
      .string()
      .nullable()
      .describe('opaque; pass it as `cursor` for the next page; null on the last'),
  });
}

export const pageQuery = {
  cursor: z
    .string()
    .max(200)
    .optional()
    .describe("opaque: the previous page's next_cursor, passed back unchanged (its contents may change)"),
  limit: z.coerce.number().int().min(1).max(100).default(25),
};

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * Reads a keyset cursor made by `encodeCursor([instant, key])`: the instant of the last item and
 * its tie-breaking key (an id, or another string when `keyIsUuid` is false). A cursor that is not
 * one of ours is the client's mistake: 400 validation_failed. The instant must be strict RFC 3339
 * (the `instant` schema): `Date.parse` also reads forms such as `2026-01-01 (x)` or
 * `Tue, 01 Jan 2026`, which Postgres refuses.
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
  if (typeof at !== 'string' || !instant.safeParse(at).success || !validKey) {
    throw new AppError('validation_failed', 'cursor is not valid');
  }
  // In UTC, as every cursor we make is; the database reads this form whatever the client sent.
  return { at: new Date(Date.parse(at)).toISOString(), key };
}
