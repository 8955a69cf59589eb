import { z } from 'zod';
import { PLANS } from '../feature-gates.ts';
import { registrationSchema } from '../ten-dlc.ts';
import { TRADE_TEMPLATES } from './trade-templates.ts';

// What a tenant should be, in every system: the tenant's profile, its phone number (a given one, or
// any in an area code), its plan, its 10DLC registration, the catalog template it starts from, and
// whether it is open at all. A new version of this record is what starts convergence again.

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form, e.g. +14155550123');

export const numberWish = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('given'), phone_number: e164.describe('exactly this number') }),
  z.object({
    kind: z.literal('area_code'),
    area_code: z
      .string()
      .regex(/^[2-9]\d{2}$/, 'a US area code such as 415')
      .describe('any number here'),
  }),
]);
export type NumberWish = z.infer<typeof numberWish>;

export const desiredStateSchema = z.object({
  name: z.string().trim().min(1).max(200),
  time_zone: z.string().min(1).max(100),
  forwarding_phone: e164,
  number: numberWish,
  plan: z.enum(PLANS).nullable().describe('null: no subscription (the gates stay open, as for the demo)'),
  /** null: a sole-proprietor brand in the business's name and the platform's standard campaign. */
  ten_dlc: registrationSchema.nullable(),
  template: z.enum(TRADE_TEMPLATES),
  lifecycle: z.enum(['active', 'closed']),
});

export type DesiredState = z.infer<typeof desiredStateSchema>;

export type DesiredVersion = { version: number; spec: DesiredState };
