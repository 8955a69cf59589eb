import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.ts';

// Every string a client sends must be well-formed Unicode. JSON can carry a lone UTF-16 surrogate
// ("\ud83d" with no partner, or a string cut in the middle of an emoji), which nothing downstream
// stores faithfully: Postgres refuses it inside jsonb (a 500), a text column silently gets U+FFFD in
// its place, and a provider may reject the text later. Refused before validation, on every route:
// 400 validation_failed naming where.

const MAX_DEPTH = 32;

function firstIllFormed(value: unknown, where: string, depth = 0): string | null {
  if (typeof value === 'string') return value.isWellFormed() ? null : where;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  // Raw bodies (the Stripe webhook reads its own bytes) are not text.
  if (Buffer.isBuffer(value)) return null;
  for (const [key, inner] of Object.entries(value)) {
    const path = `${where}.${key}`;
    if (!key.isWellFormed()) return path;
    const found = firstIllFormed(inner, path, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

export function registerWellFormedText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const where =
      firstIllFormed(request.params, 'params') ??
      firstIllFormed(request.query, 'querystring') ??
      firstIllFormed(request.body, 'body');
    if (where !== null) {
      throw new AppError('validation_failed', `${where.slice(0, 200)}: text must be well-formed Unicode`);
    }
  });
}
