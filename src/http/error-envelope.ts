import { z } from 'zod';
import { ERROR_CODES } from '../domain/errors.ts';

export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES as [string, ...string[]]),
      message: z.string(),
      correlation_id: z.string(),
    }),
  })
  .meta({
    id: 'ErrorEnvelope',
    example: {
      error: {
        code: 'validation_failed',
        message: 'body.start: must be between years 0001 and 9999',
        correlation_id: '0b6f7c1e-4d2a-4f7b-9a51-2f3c8e1d5a90',
      },
    },
  });

export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;
