import { createStore } from '@xstate/store';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';

// The inbox: the tenant's conversations by id, newest activity first, kept current by the event
// stream (an event about a conversation refetches that one row, so a missed call appears within a
// second without reloading the list).

export type Conversation = components['schemas']['Conversation'];
export type InboxFilter = 'all' | 'attention' | 'open' | 'human' | 'closed' | 'blocked';

type InboxContext = {
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  byId: Record<string, Conversation>;
  filter: InboxFilter;
  search: string;
};

export const inboxStore = createStore({
  context: { status: 'loading', error: null, byId: {}, filter: 'all', search: '' } as InboxContext,
  on: {
    loading: (ctx) => ({ ...ctx, status: 'loading' as const, error: null }),
    loaded: (ctx, event: { items: Conversation[] }) => ({
      ...ctx,
      status: 'ready' as const,
      byId: Object.fromEntries(event.items.map((c) => [c.id, c])),
    }),
    failed: (ctx, event: { message: string }) => ({ ...ctx, status: 'error' as const, error: event.message }),
    upserted: (ctx, event: { conversation: Conversation }) => ({
      ...ctx,
      byId: { ...ctx.byId, [event.conversation.id]: event.conversation },
    }),
    filtered: (ctx, event: { filter: InboxFilter }) => ({ ...ctx, filter: event.filter }),
    searched: (ctx, event: { search: string }) => ({ ...ctx, search: event.search }),
  },
});

/** Flagged for a person (OperatorAttentionNeeded), or its latest text could not be delivered. */
export function needsAttention(c: Conversation): boolean {
  return c.state !== 'closed' && (c.flagged !== null || c.last_message?.status === 'failed');
}

function activity(c: Conversation): string {
  return c.last_message_at ?? c.created_at;
}

/** The rows the current filter and search show, newest activity first. */
export function visibleConversations(ctx: InboxContext): Conversation[] {
  const digits = ctx.search.replace(/\D/g, '');
  return Object.values(ctx.byId)
    .filter((c) =>
      ctx.filter === 'all' ? true : ctx.filter === 'attention' ? needsAttention(c) : c.state === ctx.filter,
    )
    .filter((c) => digits === '' || c.caller.replace(/\D/g, '').includes(digits))
    .sort((a, b) => activity(b).localeCompare(activity(a)));
}

export function inboxCounts(ctx: InboxContext): { attention: number; human: number; open: number } {
  const all = Object.values(ctx.byId);
  return {
    attention: all.filter(needsAttention).length,
    human: all.filter((c) => c.state === 'human').length,
    open: all.filter((c) => c.state === 'open').length,
  };
}

export async function loadInbox(): Promise<void> {
  inboxStore.trigger.loading();
  try {
    const page = await unwrap(api.GET('/api/v1/conversations', { params: { query: { limit: 100 } } }));
    inboxStore.trigger.loaded({ items: page.items });
  } catch (err) {
    inboxStore.trigger.failed({ message: (err as Error).message });
  }
}

export async function refreshConversation(id: string): Promise<void> {
  const detail = await unwrap(api.GET('/api/v1/conversations/{id}', { params: { path: { id } } })).catch(
    () => null,
  );
  if (!detail) return;
  const { messages: _messages, ...conversation } = detail;
  inboxStore.trigger.upserted({ conversation });
}

let following = false;
const pending = new Set<string>();
// One missed call is several events within milliseconds: one refetch per conversation for them all.
const COALESCE_MS = 80;

/** Keeps the inbox current from the event stream (once per page load). */
export function followInbox(): void {
  if (following) return;
  following = true;
  onStreamEvent((event) => {
    const id = event.payload.conversation_id;
    if (typeof id !== 'string' || pending.has(id)) return;
    pending.add(id);
    setTimeout(() => {
      pending.delete(id);
      void refreshConversation(id);
    }, COALESCE_MS);
  });
}
