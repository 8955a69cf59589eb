import { z } from 'zod';
import { INTENTS, type UnderstandContext, type Understanding } from './understanding.ts';

// The Understanding shape as a schema, for what comes from outside the deterministic reader (a
// language model): an answer is used only when it parses strictly and is consistent with the
// context: services from the tenant's catalog, a choice among the times on offer. Pure.

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const wallTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
  .transform((t) => t as `${number}:${number}`);

export const timeAskSchema = z.strictObject({
  date: date.nullable(),
  until: date.nullable(),
  at: wallTime.nullable(),
  after: wallTime.nullable(),
  before: wallTime.nullable(),
  partOfDay: z.enum(['morning', 'afternoon', 'evening']).nullable(),
});

export const understandingSchema = z.strictObject({
  intent: z.enum(INTENTS),
  language: z.enum(['en', 'es', 'other']),
  otherLanguage: z
    .string()
    .regex(/^[a-z]{3}$/)
    .nullable()
    .optional(),
  services: z
    .array(z.strictObject({ id: z.string().min(1).max(200), score: z.number().min(0).max(1) }))
    .max(20),
  time: timeAskSchema.nullable(),
  choice: z.number().int().min(0).nullable(),
  emergency: z.boolean(),
  upset: z.boolean(),
  outOfScope: z.string().max(200).nullable(),
});

/** The answer as an Understanding when it has the shape and fits the context; else null. */
export function acceptUnderstanding(value: unknown, context: UnderstandContext): Understanding | null {
  const parsed = understandingSchema.safeParse(value);
  if (!parsed.success) return null;
  const u = parsed.data;
  const known = new Set(context.catalog.map((c) => c.id));
  if (u.services.some((s) => !known.has(s.id))) return null;
  if (u.choice !== null && (u.intent !== 'choice' || u.choice >= context.offered.length)) return null;
  return u;
}
