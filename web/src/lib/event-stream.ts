import { createStore } from '@xstate/store';
import { api, unwrap } from './api.ts';

// The tenant's live events (GET /api/v1/stream, Server-Sent Events). A stream opens with a
// single-use stoken minted through the API (the session cookie authenticates that POST); when the
// connection drops, a new stoken is minted and the stream resumes after the last event seen, so
// nothing is missed. Pages subscribe to the events that concern them.

export type StreamEvent = { seq: number; event_name: string; payload: Record<string, unknown> };

// Events that change what a conversation row, a thread or the calendar shows.
const EVENT_NAMES = [
  'nmc.conversation.ConversationStarted',
  'nmc.conversation.StateChanged',
  'nmc.conversation.MissedCallRecorded',
  'nmc.conversation.MessageReceived',
  'nmc.conversation.MessageQueued',
  'nmc.conversation.SendSuppressed',
  'nmc.conversation.HumanTookOver',
  'nmc.conversation.HumanReleased',
  'nmc.conversation.ConversationClosed',
  'nmc.conversation.OptedOut',
  'nmc.conversation.OptedIn',
  'nmc.conversation.Blocked',
  'nmc.conversation.Unblocked',
  'nmc.conversation.InboundWhileBlocked',
  'nmc.conversation.OperatorAttentionNeeded',
  'nmc.conversation.HandedToHuman',
  'nmc.conversation.AppointmentBooked',
  'nmc.conversation.AppointmentCancelled',
  'nmc.conversation.TimeHeld',
  'nmc.messaging.MessageStatusChanged',
  'nmc.scheduling.AppointmentBooked',
  'nmc.scheduling.AppointmentRescheduled',
  'nmc.scheduling.AppointmentCancelled',
  'nmc.scheduling.AppointmentOutcomeMarked',
];

const RETRY_MS = 1_000;

export const streamStore = createStore({
  context: { status: 'connecting' as 'connecting' | 'live' | 'reconnecting' },
  on: {
    live: () => ({ status: 'live' as const }),
    lost: () => ({ status: 'reconnecting' as const }),
  },
});

type Listener = (event: StreamEvent) => void;
const listeners = new Set<Listener>();
let started = false;
let lastEventId: string | null = null;

export function onStreamEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function startEventStream(): void {
  if (started) return;
  started = true;
  void open();
}

async function open(): Promise<void> {
  let stoken: string;
  try {
    ({ stoken } = await unwrap(api.POST('/api/v1/stream-tokens', { body: {} })));
  } catch {
    streamStore.trigger.lost();
    setTimeout(() => void open(), RETRY_MS * 3);
    return;
  }
  const query = new URLSearchParams({ stoken });
  if (lastEventId) query.set('last_event_id', lastEventId);
  const source = new EventSource(`/api/v1/stream?${query}`);
  source.addEventListener('open', () => streamStore.trigger.live());
  // The stoken is spent: EventSource's own reconnect would be refused, so reopen with a new one.
  source.addEventListener('error', () => {
    source.close();
    streamStore.trigger.lost();
    setTimeout(() => void open(), RETRY_MS);
  });
  for (const name of EVENT_NAMES) {
    source.addEventListener(name, (message) => {
      lastEventId = message.lastEventId || lastEventId;
      const envelope = JSON.parse(message.data) as { event_name: string; payload: Record<string, unknown> };
      const event = {
        seq: Number(message.lastEventId),
        event_name: envelope.event_name,
        payload: envelope.payload,
      };
      for (const listener of listeners) listener(event);
    });
  }
}
