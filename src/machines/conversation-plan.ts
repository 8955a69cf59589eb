import type { AlertReason } from '../domain/alert-reasons.ts';
import type { ReplyHint } from '../domain/reply-hint.ts';
import { render } from '../domain/templates.ts';
import { type Dialogue, INITIAL_DIALOGUE } from './booking-dialogue.ts';
import type {
  BookingRequest,
  ConversationFacts,
  Effect,
  SendPurpose,
  TimerKind,
} from './conversation-events.ts';
import { sendBlockedBy } from './send-guard.ts';

// The decision of one transition, built as plain data: a context patch and the effects, in order.
// The machine turns a Plan into xstate actions; keeping the decisions here makes them ordinary
// functions that read like the rules they implement.

export type ConversationContext = {
  assignedTo: string | null;
  lastGreetingAt: string | null;
  acknowledged: boolean;
  missedCalls: number;
  timerToken: number;
  blockedReason: 'opted_out' | 'compliance' | null;
  closedReason: string | null;
  dialogue: Dialogue;
  /** Texts waiting to be read together (a burst); answered once when the `burst` timer fires. */
  pendingTexts: PendingText[];
  /** The current `burst` timer; its own counter, so it never cancels the inactivity timer. */
  burstToken: number;
};

export type PendingText = { body: string; hint?: ReplyHint };

/** At most this many texts of a burst are kept to be read together. */
export const MAX_PENDING_TEXTS = 10;

export const INITIAL_CONTEXT: ConversationContext = {
  assignedTo: null,
  lastGreetingAt: null,
  acknowledged: false,
  missedCalls: 0,
  timerToken: 0,
  blockedReason: null,
  closedReason: null,
  dialogue: INITIAL_DIALOGUE,
  pendingTexts: [],
  burstToken: 0,
};

export function minutesAfter(at: string, minutes: number): string {
  return new Date(Date.parse(at) + minutes * 60_000).toISOString();
}

export class Plan {
  readonly patch: Partial<ConversationContext> = {};
  readonly effects: Effect[] = [];

  readonly context: ConversationContext;
  readonly facts: ConversationFacts;
  readonly at: string;

  constructor(context: ConversationContext, facts: ConversationFacts, at: string) {
    this.context = context;
    this.facts = facts;
    this.at = at;
  }

  set(patch: Partial<ConversationContext>): this {
    Object.assign(this.patch, patch);
    return this;
  }

  emit(name: string, payload: Record<string, unknown> = {}): this {
    this.effects.push({ type: 'emit', name, payload });
    return this;
  }

  request(request: BookingRequest): this {
    this.effects.push(request);
    return this;
  }

  notify(reason: AlertReason): this {
    this.effects.push({ type: 'notifyOperators', reason });
    return this;
  }

  text(template: string, values: Record<string, string> = {}): string {
    return render(template, { business: this.facts.businessName, help: this.facts.helpText, ...values });
  }

  /** Sends when the guards allow it, else records why it was held back. Returns whether it was sent. */
  send(purpose: SendPurpose, body: string, operatorId: string | null = null, facts = this.facts): boolean {
    const blockedBy = sendBlockedBy(purpose, facts);
    if (blockedBy !== null) {
      this.emit('nmc.conversation.SendSuppressed', { purpose, reason: blockedBy });
      return false;
    }
    this.effects.push({ type: 'sendSms', body, purpose, operatorId });
    return true;
  }

  /** Reads the caller's texts together after a short pause: each new text pushes the reply back. */
  deferReply(text: PendingText, seconds: number): this {
    const token = (this.patch.burstToken ?? this.context.burstToken) + 1;
    const pending = this.patch.pendingTexts ?? this.context.pendingTexts;
    // A flood is bounded: the last few texts are what the reply answers (and the snapshot stays small).
    this.set({ burstToken: token, pendingTexts: [...pending, text].slice(-MAX_PENDING_TEXTS) });
    const fireAt = new Date(Date.parse(this.at) + seconds * 1000).toISOString();
    this.effects.push({ type: 'scheduleTimer', timer: 'burst', fireAt, token });
    return this;
  }

  /** Replaces any pending timer: the new token makes the old timer's event stale. */
  restartTimer(timer: TimerKind, minutes: number | null): this {
    const token = (this.patch.timerToken ?? this.context.timerToken) + 1;
    this.set({ timerToken: token });
    if (minutes !== null) {
      this.effects.push({ type: 'scheduleTimer', timer, fireAt: minutesAfter(this.at, minutes), token });
    }
    return this;
  }
}
