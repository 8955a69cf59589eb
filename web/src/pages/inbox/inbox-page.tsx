import { useEffect, useState } from 'react';
import { formatPhone, timeAgo } from '../../lib/format.ts';
import { followLink } from '../../lib/router.ts';
import { currentSession } from '../../lib/session-store.ts';
import { useSelector } from '../../lib/use-store.ts';
import {
  type Conversation,
  type InboxFilter,
  inboxCounts,
  inboxStore,
  loadInbox,
  needsAttention,
  visibleConversations,
} from './inbox-store.ts';

const FILTERS: Array<{ value: InboxFilter; label: string }> = [
  { value: 'all', label: 'All' },
  { value: 'attention', label: 'Needs attention' },
  { value: 'open', label: 'Assistant' },
  { value: 'human', label: 'With a person' },
  { value: 'closed', label: 'Closed' },
  { value: 'blocked', label: 'Blocked' },
];

const STATE_LABEL: Record<Conversation['state'], string> = {
  open: 'Assistant',
  human: 'With a person',
  closed: 'Closed',
  blocked: 'Blocked',
};

const PREVIEW_SPEAKER: Record<NonNullable<Conversation['last_message']>['participant'], string> = {
  caller: 'Caller',
  assistant: 'Assistant',
  operator: 'Operator',
  system: 'System',
};

const sameRows = (a: Conversation[], b: Conversation[]) =>
  a.length === b.length && a.every((row, i) => row === b[i]);

export function InboxPage() {
  const status = useSelector(inboxStore, (ctx) => ctx.status);
  const error = useSelector(inboxStore, (ctx) => ctx.error);
  const filter = useSelector(inboxStore, (ctx) => ctx.filter);
  const search = useSelector(inboxStore, (ctx) => ctx.search);
  const rows = useSelector(inboxStore, visibleConversations, sameRows);
  const counts = useSelector(
    inboxStore,
    inboxCounts,
    (a, b) => a.attention === b.attention && a.human === b.human && a.open === b.open,
  );
  // "x min ago" moves on by itself.
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 30_000);
    return () => clearInterval(timer);
  }, []);

  return (
    <section aria-labelledby="inbox-title" className="page">
      <div className="page-head">
        <h1 id="inbox-title">Inbox</h1>
        <p className="counts" aria-live="polite">
          <span className={counts.attention > 0 ? 'badge badge-alert' : 'badge'}>
            {counts.attention} need attention
          </span>{' '}
          <span className="badge">{counts.human} with a person</span>
        </p>
      </div>
      <div className="toolbar">
        <fieldset className="filters">
          <legend className="visually-hidden">Show</legend>
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              aria-pressed={filter === f.value}
              onClick={() => inboxStore.trigger.filtered({ filter: f.value })}
            >
              {f.label}
            </button>
          ))}
        </fieldset>
        <label className="search">
          <span>Search by number</span>
          <input
            type="search"
            inputMode="tel"
            value={search}
            onChange={(e) => inboxStore.trigger.searched({ search: e.target.value })}
          />
        </label>
      </div>
      {status === 'loading' && <p role="status">Loading conversations…</p>}
      {status === 'error' && (
        <div role="alert" className="error">
          <p>The inbox could not be loaded: {error}</p>
          <button type="button" onClick={() => void loadInbox()}>
            Try again
          </button>
        </div>
      )}
      {status === 'ready' && rows.length === 0 && (
        <p className="empty">
          {filter === 'all' && search === ''
            ? 'No conversations yet. A missed call starts one.'
            : 'Nothing matches this filter.'}
        </p>
      )}
      {rows.length > 0 && (
        <ul className="conversation-list" aria-label="Conversations">
          {rows.map((c) => (
            <ConversationRow key={c.id} conversation={c} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ConversationRow({ conversation: c }: { conversation: Conversation }) {
  const attention = needsAttention(c);
  return (
    <li className={attention ? 'conversation attention' : 'conversation'}>
      <a href={`/app/conversations/${c.id}`} onClick={followLink}>
        <span className="caller">
          {c.caller_name ? (
            <>
              {c.caller_name} <span className="number">{formatPhone(c.caller)}</span>
            </>
          ) : (
            formatPhone(c.caller)
          )}
        </span>
        <span className={`state state-${c.state}`}>{STATE_LABEL[c.state]}</span>
        {attention && <span className="badge badge-alert">Needs attention</span>}
        {c.assigned_to && (
          <span className="holder">
            held by {c.assigned_to === currentSession().user_id ? 'you' : 'a teammate'}
          </span>
        )}
        <span className="when">{timeAgo(c.last_message_at ?? c.created_at)}</span>
        {c.last_message && (
          <span className="preview">
            {PREVIEW_SPEAKER[c.last_message.participant]}: {c.last_message.body.slice(0, 90)}
            {c.last_message.body.length > 90 ? '…' : ''}
            {c.last_message.status === 'failed' && <strong className="error"> (not delivered)</strong>}
          </span>
        )}
      </a>
    </li>
  );
}
