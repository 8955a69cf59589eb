import { initialTransition, transition } from 'xstate';
import { z } from 'zod';
import type { ReplyHint } from '../domain/reply-hint.ts';
import type { WallTime } from '../domain/understanding/understanding.ts';
import { INITIAL_DIALOGUE } from './booking-dialogue.ts';
import { conversationMachine } from './conversation.ts';
import type { ConversationEvent, Effect } from './conversation-events.ts';
import type { ConversationContext } from './conversation-plan.ts';

// Persisting and reviving the conversation actor as data, and applying one event to it. The stored
// form is `{ value, context }` plus a snapshot schema version; an older version is upgraded by
// SNAPSHOT_MIGRATIONS before revival, and one that cannot be revived raises SnapshotRevivalError
// (never a silent reset).

export const SNAPSHOT_SCHEMA_VERSION = 4;

export type StoredSnapshot = { value: string; context: ConversationContext };
export type ConversationState = 'open' | 'human' | 'closed' | 'blocked';

type AnyStored = { value?: unknown; context?: Record<string, unknown> };

/** Upgrades from version N to N+1, keyed by N. */
export const SNAPSHOT_MIGRATIONS: Record<number, (snapshot: AnyStored) => AnyStored> = {
  // Version 1 kept no `acknowledged`/`missedCalls`, and called `blocked` `optedOut`.
  1: (snapshot) => ({
    value: snapshot.value === 'optedOut' ? 'blocked' : snapshot.value,
    context: {
      acknowledged: false,
      missedCalls: 0,
      ...snapshot.context,
      blockedReason: snapshot.value === 'optedOut' ? 'opted_out' : (snapshot.context?.blockedReason ?? null),
    },
  }),
  // Version 2 had no booking dialogue.
  2: (snapshot) => ({ value: snapshot.value, context: { ...snapshot.context, dialogue: INITIAL_DIALOGUE } }),
  // The dialogue remembers more (language, a lapsed hold, a move, the asked time); a burst waits.
  3: (snapshot) => ({
    value: snapshot.value,
    context: {
      ...snapshot.context,
      pendingTexts: [],
      burstToken: 0,
      dialogue: {
        ...INITIAL_DIALOGUE,
        ...(snapshot.context?.dialogue as Record<string, unknown> | undefined),
      },
    },
  }),
};

export class SnapshotRevivalError extends Error {
  override name = 'SnapshotRevivalError';
}

const STATES: readonly ConversationState[] = ['open', 'human', 'closed', 'blocked'];

const isoInstant = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not an instant');
const wallTime = z.custom<WallTime>((v) => typeof v === 'string' && /^\d{1,2}:\d{2}$/.test(v));
const slotSchema = z.strictObject({ resourceId: z.string(), start: isoInstant, end: isoInstant });
const contextSchema: z.ZodType<ConversationContext> = z.strictObject({
  assignedTo: z.string().min(1).nullable(),
  lastGreetingAt: isoInstant.nullable(),
  acknowledged: z.boolean(),
  missedCalls: z.number().int().min(0),
  timerToken: z.number().int().min(0),
  blockedReason: z.enum(['opted_out', 'compliance']).nullable(),
  closedReason: z.string().nullable(),
  dialogue: z.strictObject({
    step: z.enum(['idle', 'choosingService', 'offering', 'confirming', 'booked', 'confirmingCancel']),
    serviceId: z.string().nullable(),
    candidates: z.array(z.string()).max(10),
    offered: z.array(slotSchema).max(10),
    holdId: z.string().nullable(),
    held: slotSchema.nullable(),
    appointmentId: z.string().nullable(),
    booked: slotSchema.nullable(),
    offerReason: z.enum(['quote', 'expired', 'taken', 'again', 'ask', 'next', 'move']).nullable(),
    misunderstandings: z.number().int().min(0),
    language: z.enum(['en', 'es']),
    lapsedHoldId: z.string().nullable(),
    yesAfterLapse: z.boolean(),
    moving: z.boolean(),
    asked: z
      .strictObject({
        date: z.string().nullable(),
        until: z.string().nullable(),
        at: wallTime.nullable(),
        after: wallTime.nullable(),
        before: wallTime.nullable(),
        partOfDay: z.enum(['morning', 'afternoon', 'evening']).nullable(),
      })
      .nullable(),
    bookedService: z.string().nullable(),
    urgent: z.boolean(),
  }),
  pendingTexts: z
    .array(
      z.strictObject({
        body: z.string(),
        hint: z.custom<ReplyHint>((v) => typeof v === 'object' && v !== null).optional(),
      }),
    )
    .max(50),
  burstToken: z.number().int().min(0),
});

export function initialSnapshot(): StoredSnapshot {
  const [snapshot] = initialTransition(conversationMachine);
  return { value: snapshot.value as string, context: snapshot.context };
}

/** Upgrades and validates a stored snapshot; throws SnapshotRevivalError when it cannot be used. */
export function reviveSnapshot(stored: unknown, schemaVersion: number): StoredSnapshot {
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > SNAPSHOT_SCHEMA_VERSION) {
    throw new SnapshotRevivalError(`unknown snapshot schema version ${schemaVersion}`);
  }
  if (!stored || typeof stored !== 'object') throw new SnapshotRevivalError('snapshot is not an object');
  let current = stored as AnyStored;
  for (let version = schemaVersion; version < SNAPSHOT_SCHEMA_VERSION; version++) {
    const migrate = SNAPSHOT_MIGRATIONS[version];
    if (!migrate) throw new SnapshotRevivalError(`no migration from snapshot schema version ${version}`);
    current = migrate(current);
  }
  if (typeof current.value !== 'string' || !STATES.includes(current.value as ConversationState)) {
    throw new SnapshotRevivalError(`unknown state ${JSON.stringify(current.value)}`);
  }
  const parsed = contextSchema.safeParse(current.context);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SnapshotRevivalError(
      `context.${issue?.path.join('.') ?? ''} is invalid: ${issue?.message ?? ''}`,
    );
  }
  return { value: current.value, context: parsed.data };
}

export type StepResult = {
  snapshot: StoredSnapshot;
  previousState: ConversationState;
  state: ConversationState;
  effects: Effect[];
  /** False when no transition of the current state accepts the event (it is explicitly ignored). */
  handled: boolean;
};

// Named actions that carry an effect as their params (`request` carries the booking requests).
const EFFECT_TYPES = new Set<string>(['sendSms', 'scheduleTimer', 'emit', 'notifyOperators', 'request']);

/** Applies one event to a stored snapshot with xstate's pure transition. */
export function step(stored: StoredSnapshot, event: ConversationEvent): StepResult {
  const snapshot = conversationMachine.resolveState({ value: stored.value, context: stored.context });
  const previousState = stored.value as ConversationState;
  // A final (closed) conversation accepts nothing, not even the machine's top-level transitions.
  if (snapshot.status !== 'active') {
    return { snapshot: stored, previousState, state: previousState, effects: [], handled: false };
  }
  const handled = snapshot.can(event);
  const [next, actions] = transition(conversationMachine, snapshot, event);
  const effects = actions
    .filter((action) => EFFECT_TYPES.has(action.type))
    .map((action) => action.params as Effect);
  return {
    snapshot: { value: next.value as string, context: next.context },
    previousState,
    state: next.value as ConversationState,
    effects,
    handled,
  };
}
