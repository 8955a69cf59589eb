// What a customer's text means, as one typed shape: the intent layer of the assistant. Pure.
//
// The deterministic reader (no language model) and an optional model both produce this shape; the
// booking dialogue (src/machines/booking-dialogue.ts) decides what to do with it, and the tenant's
// templates decide every word that is sent. Times are in the business's local wall time, resolved
// against the `now` and `timeZone` the caller of `understand` passes in: nothing here reads a clock.

export const INTENTS = [
  /** Describes a problem or names a service ("my kitchen sink is clogged"). */
  'need',
  /** Asks what something costs ("how much for a drain cleaning?", "do you charge to come out?"). */
  'price',
  /** Asks for a time or day ("tomorrow at 3pm?", "anytime after 2", "next week?", "saturday?"). */
  'time',
  /** Picks one of the times on offer ("2", "the 10am one", "second one", "fine. 1"). */
  'choice',
  /** Agrees ("yes", "👍", "sounds good, book it"). */
  'yes',
  /** Declines ("no", "nah"). */
  'no',
  /** None of the offered times work ("none of those work", "any other times?"). */
  'none',
  /** Wants to move an existing appointment ("can we do thursday instead", "reschedule"). */
  'change',
  /** Wants to cancel an existing appointment ("need to cancel, something came up"). Never the bare carrier keyword. */
  'cancel',
  /** Asks about an existing appointment ("when is my appointment again?"). */
  'when',
  /** Asks for a person ("can I talk to someone", "call me please"). */
  'person',
  /** Is unhappy ("this is ridiculous", "nobody showed up"). */
  'complaint',
  /** Urgent danger or damage (burst pipe, flooding, sewage backup, gas smell, sparks, no heat in freezing weather). */
  'emergency',
  /** Asks for something the trade does not do ("can you fix my AC?" to a plumber). */
  'out_of_scope',
  /** Hello and nothing else. */
  'greeting',
  /** Thanks and nothing else. */
  'thanks',
  /** Nothing recognised. */
  'unknown',
] as const;

export type Intent = (typeof INTENTS)[number];

export type Language = 'en' | 'es' | 'other';

/** Local wall-clock time of day, 24 h: `"15:00"`. */
export type WallTime = `${number}:${number}`;

/**
 * A time the customer asked for, in the business's zone. `date` alone is a day ("saturday?"),
 * `from`/`to` a span of days ("next week"); `at` an exact time, `after`/`before` a bound
 * ("after 2" → after 14:00), `partOfDay` a vaguer one ("friday morning").
 */
export type TimeAsk = {
  /** Local calendar date `YYYY-MM-DD` of the first day meant. */
  date: string | null;
  /** Last local date meant, inclusive, when a span was asked for ("next week"); else null. */
  until: string | null;
  at: WallTime | null;
  after: WallTime | null;
  before: WallTime | null;
  partOfDay: 'morning' | 'afternoon' | 'evening' | null;
};

export type ServiceMatch = { id: string; score: number };

export type Understanding = {
  intent: Intent;
  language: Language;
  /** With `language` `other`: the language recognised (ISO 639-3, e.g. `fra`), or null. */
  otherLanguage?: string | null;
  /** Services the text points at, best first; empty when none. */
  services: ServiceMatch[];
  /** A time asked for, or null. */
  time: TimeAsk | null;
  /** 0-based index into the offered times, when the text picks one of them; else null. */
  choice: number | null;
  /** Danger or damage is described, whatever the primary intent. */
  emergency: boolean;
  /** The text is angry or complains, whatever the primary intent. */
  upset: boolean;
  /** A thing the business does not do, as the customer named it ("AC"); else null. */
  outOfScope: string | null;
};

export type Trade = 'plumbing' | 'hvac' | 'electrical' | 'cleaning';

export type UnderstandContext = {
  /** The instant the text arrived, RFC 3339 UTC. */
  now: string;
  /** The business's IANA time zone. */
  timeZone: string;
  trade: Trade;
  /** The tenant's active services. */
  catalog: readonly { id: string; name: string; aliases: readonly string[] }[];
  /** The times on offer right now (empty when none), in the order they were numbered. */
  offered: readonly { start: string }[];
  /**
   * The customer's live appointment, if any. With one and nothing on offer, "can we do thursday
   * instead" is a change; without it, a time request. Absent means none.
   */
  appointment?: { start: string } | null;
};
