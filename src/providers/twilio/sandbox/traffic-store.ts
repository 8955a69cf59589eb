import { createStore } from '@xstate/store';
import type { SandboxMessage, SandboxMessageStatus, Timestamp } from './message-resource.ts';

// Everything the Twilio sandbox saw and did, kept in an @xstate/store store so tests and benches can
// read it (`getSnapshot`) or react to it (`subscribe`) without polling. Records are immutable values:
// a status change replaces the message object, so a snapshot a test took earlier never shifts under it.

export type FormParams = Record<string, string | string[]>;

export interface RecordedRequest {
  /** 1-based arrival order. */
  id: number;
  method: string;
  path: string;
  /** The form body; a key sent more than once (MediaUrl) becomes an array. */
  params: FormParams;
  /** Basic auth matched the sandbox's account. */
  authenticated: boolean;
  receivedAt: Timestamp;
  response: RecordedResponse | null;
}

export interface RecordedResponse {
  status: number;
  /** Twilio error code of a 4xx/5xx answer. */
  code: number | null;
  messageSid: string | null;
  answeredAt: Timestamp;
}

export type CallbackOutcome =
  | { kind: 'answered'; status: number }
  | { kind: 'error'; message: string }
  | { kind: 'dropped' };

export interface RecordedCallback {
  messageSid: string;
  status: SandboxMessageStatus;
  url: string;
  params: Record<string, string>;
  signature: string;
  sentAt: Timestamp;
  outcome: CallbackOutcome;
}

export interface TrafficContext {
  requests: RecordedRequest[];
  messages: SandboxMessage[];
  callbacks: RecordedCallback[];
}

export function createTrafficStore() {
  return createStore({
    context: { requests: [], messages: [], callbacks: [] } as TrafficContext,
    on: {
      requestReceived: (ctx, event: { request: RecordedRequest }) => ({
        ...ctx,
        requests: [...ctx.requests, event.request],
      }),
      requestAnswered: (ctx, event: { id: number; response: RecordedResponse }) => {
        const index = ctx.requests.findLastIndex((r) => r.id === event.id);
        const request = ctx.requests[index];
        if (request === undefined) return ctx;
        return { ...ctx, requests: ctx.requests.with(index, { ...request, response: event.response }) };
      },
      messageAccepted: (ctx, event: { message: SandboxMessage }) => ({
        ...ctx,
        messages: [...ctx.messages, event.message],
      }),
      messageStatusChanged: (
        ctx,
        event: { sid: string; status: SandboxMessageStatus; errorCode: number | null; at: Date },
      ) => {
        const index = ctx.messages.findLastIndex((m) => m.sid === event.sid);
        const message = ctx.messages[index];
        if (message === undefined) return ctx;
        const updated: SandboxMessage = {
          ...message,
          status: event.status,
          errorCode: event.errorCode,
          dateUpdated: event.at,
          dateSent: message.dateSent ?? (event.status === 'queued' ? null : event.at),
        };
        return { ...ctx, messages: ctx.messages.with(index, updated) };
      },
      callbackRecorded: (ctx, event: { callback: RecordedCallback }) => ({
        ...ctx,
        callbacks: [...ctx.callbacks, event.callback],
      }),
      reset: () => ({ requests: [], messages: [], callbacks: [] }),
    },
  });
}

export type TrafficStore = ReturnType<typeof createTrafficStore>;

/**
 * Resolves with `select(context)` once it is non-null, checking the current snapshot first and then
 * every change; rejects after `timeoutMs` with `description` so a hanging test says what it awaited.
 */
export function waitForTraffic<T>(
  store: TrafficStore,
  select: (ctx: TrafficContext) => T | null,
  timeoutMs: number,
  description: string,
): Promise<T> {
  const now = select(store.getSnapshot().context);
  if (now !== null) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`twilio sandbox: timed out after ${timeoutMs} ms waiting for ${description}`));
    }, timeoutMs);
    const subscription = store.subscribe((snapshot) => {
      const value = select(snapshot.context);
      if (value === null) return;
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve(value);
    });
  });
}
