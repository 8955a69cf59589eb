import { z } from 'zod';

// What a business submits for US A2P 10DLC registration: the brand and its campaign. Validated the
// way carriers review it, so an obviously incomplete registration is refused before anyone waits
// days for a rejection.

const sample = z.string().trim().min(20).max(320);

export const registrationSchema = z.object({
  brand: z.object({
    legal_name: z.string().trim().min(2).max(200),
    ein: z.string().regex(/^\d{2}-\d{7}$/, 'EIN must look like 12-3456789'),
    website: z.url({ protocol: /^https?$/ }).max(300),
    vertical: z.string().trim().min(2).max(100),
    contact_email: z.email().max(320),
  }),
  campaign: z.object({
    use_case: z.enum(['CUSTOMER_CARE', 'ACCOUNT_NOTIFICATION', 'MIXED', 'LOW_VOLUME']),
    description: z.string().trim().min(40).max(1000),
    sample_messages: z.array(sample).min(2).max(5),
    opt_in_description: z
      .string()
      .trim()
      .min(40)
      .max(1000)
      .describe('how callers agree to texts, e.g. calling the business and receiving the missed-call text'),
  }),
});

export type Registration = z.infer<typeof registrationSchema>;

export type ReviewDecision = { status: 'approved' } | { status: 'rejected'; reason: string };

export const reviewSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('approved') }),
  z.object({ status: z.literal('rejected'), reason: z.string().trim().min(3).max(500) }),
]);
