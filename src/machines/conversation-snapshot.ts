import { initialTransition, transition } from 'xstate';
import { conversationMachine } from './conversation.ts';
import type { ConversationEvent, Effect } from './conversation-events.ts';
import { type ConversationContext, INITIAL_CONTEXT } from './conversation-plan.ts';

// Persisting and reviving the conversation actor as data, and applying one event to it. The stored
// form is `{ value, context }` plus a snapshot schema version; an older version is upgraded by
// SNAPSHOT_MIGRATIONS before revival, and one that cannot be revived raises SnapshotRevivalError
// (never a silent reset).

export const SNAPSHOT_SCHEMA_VERSION = 2;

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
};

export class SnapshotRevivalError extends Error {
  override name = 'SnapshotRevivalError';
}

const STATES: readonly ConversationState[] = ['open', 'human', 'closed', 'blocked'];

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
  const context = { ...INITIAL_CONTEXT, ...(current.context ?? {}) } as ConversationContext;
  for (const key of Object.keys(INITIAL_CONTEXT) as (keyof ConversationContext)[]) {
    const expected = typeof INITIAL_CONTEXT[key];
    const actual = typeof context[key];
    if (INITIAL_CONTEXT[key] !== null && context[key] !== null && actual !== expected) {
      throw new SnapshotRevivalError(`context.${key} has the wrong type`);
    }
  }
  return { value: current.value, context };
}

export type StepResult = {
  snapshot: StoredSnapshot;
  previousState: ConversationState;
  state: ConversationState;
  effects: Effect[];
  /** False when no transition of the current state accepts the event (it is explicitly ignored). */
  handled: boolean;
};

const EFFECT_TYPES = new Set<string>(['sendSms', 'scheduleTimer', 'emit', 'notifyOperators']);

/** Applies one event to a stored snapshot with xstate's pure transition. */
export function step(stored: StoredSnapshot, event: ConversationEvent): StepResult {
  const snapshot = conversationMachine.resolveState({ value: stored.value, context: stored.context });
  const handled = snapshot.status === 'active' && snapshot.can(event);
  const [next, actions] = transition(conversationMachine, snapshot, event);
  const effects = actions
    .filter((action) => EFFECT_TYPES.has(action.type))
    .map((action) => action.params as Effect);
  return {
    snapshot: { value: next.value as string, context: next.context },
    previousState: stored.value as ConversationState,
    state: next.value as ConversationState,
    effects,
    handled,
  };
}
