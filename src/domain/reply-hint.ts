import { z } from 'zod';

// What an optional language model may suggest about a caller's text: an intent and its slots,
// never a reply. The machine decides what is sent, from templates; a hint only stands in for the
// deterministic reading (src/domain/booking-intent.ts, src/domain/catalog-match.ts) when it is
// consistent with where the dialogue is. Pure.

export const REPLY_INTENTS = ['service', 'pick', 'yes', 'no', 'change', 'cancel', 'other'] as const;

export const replyHintSchema = z.strictObject({
  intent: z.enum(REPLY_INTENTS),
  service_id: z.string().min(1).max(200).optional(),
  pick: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
});

export type ReplyHint = z.output<typeof replyHintSchema>;

/** The dialogue steps of src/machines/booking-dialogue.ts, as far as a hint needs to know them. */
export type ReplyStep = 'idle' | 'choosingService' | 'offering' | 'confirming' | 'booked';

export type HintContext = {
  /** Ids of the tenant's active services. */
  catalogIds: readonly string[];
  /** How many times are on offer right now (0 when none). */
  offeredCount: number;
  step: ReplyStep;
};

/**
 * Whether a hint may be acted on: it parses, names a known service, picks an offered time, and
 * says yes/no/change/cancel only where there is something held or booked to say it about. A slot
 * that belongs to another intent (a `pick` on a `service` hint) makes it inconsistent too. `other`
 * is never acted on: the deterministic reading gets its turn.
 */
export function validHint(hint: unknown, context: HintContext): hint is ReplyHint {
  const parsed = replyHintSchema.safeParse(hint);
  if (!parsed.success) return false;
  const { intent, service_id: serviceId, pick } = parsed.data;
  if (intent !== 'service' && serviceId !== undefined) return false;
  if (intent !== 'pick' && pick !== undefined) return false;
  const { step } = context;
  switch (intent) {
    case 'service':
      return serviceId !== undefined && context.catalogIds.includes(serviceId);
    case 'pick':
      return (
        pick !== undefined && (step === 'offering' || step === 'confirming') && pick <= context.offeredCount
      );
    case 'yes':
    case 'no':
      return step === 'confirming';
    case 'change':
      return step === 'confirming' || step === 'booked';
    case 'cancel':
      return step === 'booked';
    case 'other':
      return false;
  }
}

/** What an interpreter is asked: the caller's text and where the dialogue is. */
export type ReplyQuestion = {
  text: string;
  /** The tenant's active services. */
  catalog: ReadonlyArray<{ id: string; name: string }>;
  /** The offered times as the caller saw them ("Tue 10:00"), in order; empty when none. */
  offered: readonly string[];
  step: ReplyStep;
};

export type InterpretReply = (question: ReplyQuestion) => Promise<ReplyHint | null>;
