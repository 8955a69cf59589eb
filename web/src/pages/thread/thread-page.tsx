import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { smsEncoding, smsSegments } from '../../../../src/domain/gsm7.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';
import { formatPhone, formatTime } from '../../lib/format.ts';
import { followLink } from '../../lib/router.ts';
import { currentSession } from '../../lib/session-store.ts';
import { inboxStore } from '../inbox/inbox-store.ts';
import { CallerBookings } from './caller-bookings.tsx';
import { TeamPanel } from './team-panel.tsx';

// One conversation: the transcript with who spoke and what became of each text, the actions a
// person takes (take over, release, close), and a composer that counts SMS segments as the
// carrier will. It refetches when the stream reports anything about this conversation.

type Detail = components['schemas']['ConversationDetail'];
type Message = Detail['messages'][number];

const SPEAKER: Record<Message['participant'], string> = {
  caller: 'Caller',
  assistant: 'Assistant',
  operator: 'Operator',
  system: 'System',
};

const STATUS: Record<Message['status'], string> = {
  received: 'received',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  failed: 'not delivered',
};

export function ThreadPage({ id }: { id: string }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const zone = currentSession().tenant?.time_zone ?? 'UTC';
  // Operators' messages carry their user id; the team's names come from the teammates list.
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    void unwrap(api.GET('/api/v1/teammates', {})).then(
      (r) => setNames(Object.fromEntries(r.items.map((u) => [u.id, u.name]))),
      () => undefined,
    );
  }, []);

  const load = useCallback(async () => {
    try {
      const next = await unwrap(api.GET('/api/v1/conversations/{id}', { params: { path: { id } } }));
      setDetail(next);
      setError(null);
      const { messages: _messages, ...row } = next;
      inboxStore.trigger.upserted({ conversation: row });
    } catch (err) {
      setError((err as Error).message);
    }
  }, [id]);

  useEffect(() => {
    void load();
    return onStreamEvent((event) => {
      if (event.payload.conversation_id === id) void load();
    });
  }, [id, load]);

  async function act(action: 'takeover' | 'release' | 'close', done: string) {
    setBusy(true);
    setNotice(null);
    try {
      const options = { params: { path: { id } }, body: {} };
      const result = await unwrap(
        action === 'takeover'
          ? api.POST('/api/v1/conversations/{id}/takeover', options)
          : action === 'release'
            ? api.POST('/api/v1/conversations/{id}/release', options)
            : api.POST('/api/v1/conversations/{id}/close', options),
      );
      setDetail(result.conversation);
      setNotice(done);
    } catch (err) {
      setNotice(`Could not do that: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  if (error && !detail)
    return (
      <section className="page" aria-labelledby="thread-title">
        <h1 id="thread-title">Conversation</h1>
        <div role="alert" className="error">
          <p>{error}</p>
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        </div>
      </section>
    );
  if (!detail)
    return (
      <section className="page" aria-labelledby="thread-title">
        <h1 id="thread-title">Conversation</h1>
        <p role="status">Loading the conversation…</p>
      </section>
    );

  const mine = detail.assigned_to !== null && detail.assigned_to === currentSession().user_id;
  const blocked = detail.sending_blocked;
  return (
    <section className="page thread" aria-labelledby="thread-title">
      <p>
        <a href="/app" onClick={followLink}>
          ← Inbox
        </a>
      </p>
      <div className="page-head">
        <h1 id="thread-title">
          {detail.caller_name
            ? `${detail.caller_name} · ${formatPhone(detail.caller)}`
            : formatPhone(detail.caller)}
        </h1>
        <span className={`state state-${detail.state}`}>{stateWords(detail, mine)}</span>
      </div>
      <div className="actions">
        {(detail.state === 'open' || detail.state === 'closed') && (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act('takeover', 'You have the conversation; the assistant is silent.')}
          >
            Take over
          </button>
        )}
        {detail.state === 'human' && (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act('release', 'The assistant has the conversation again.')}
          >
            Release
          </button>
        )}
        {detail.state !== 'closed' && (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act('close', 'The conversation is closed.')}
          >
            Close
          </button>
        )}
      </div>
      <p role="status" className="notice">
        {notice}
      </p>
      {blocked && (
        <div role="note" className="banner" aria-label="Sending is disabled">
          <strong>Sending is disabled</strong>: {blocked.message}.
        </div>
      )}
      {detail.flagged && (
        <div className="banner banner-alert">Needs attention: {detail.flagged.replaceAll('_', ' ')}</div>
      )}
      <div className="thread-layout">
        <div className="thread-main">
          <ol className="transcript" aria-label="Messages">
            {detail.messages.length === 0 && <li className="empty">No messages yet.</li>}
            {detail.messages.map((m) => (
              <li key={m.id} className={`message message-${m.direction}`}>
                <span className="speaker">
                  {m.participant === 'operator' && m.operator_id
                    ? (names[m.operator_id] ?? SPEAKER.operator)
                    : SPEAKER[m.participant]}
                </span>
                <p className="body">{m.body}</p>
                <span className="meta">
                  <time dateTime={m.created_at}>{formatTime(m.created_at, zone)}</time>
                  {m.direction === 'out' && <> · {STATUS[m.status]}</>}
                  {m.failure_reason && <> · {m.failure_reason}</>}
                </span>
              </li>
            ))}
          </ol>
          {!blocked && detail.state !== 'closed' && <Composer id={id} onSent={setDetail} />}
        </div>
        <div className="thread-side">
          <TeamPanel
            conversationId={id}
            assignedTo={detail.assigned_to}
            zone={zone}
            onAssigned={() => void load()}
          />
          <CallerBookings conversationId={id} zone={zone} />
        </div>
      </div>
    </section>
  );
}

function stateWords(detail: Detail, mine: boolean): string {
  if (detail.state === 'human') return mine ? 'You have it' : 'A teammate has it';
  if (detail.state === 'open') return 'The assistant has it';
  return detail.state === 'closed' ? 'Closed' : 'Blocked';
}

function Composer({ id, onSent }: { id: string; onSent: (detail: Detail) => void }) {
  const [body, setBody] = useState('');
  const [sending, setSending] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const segments = smsSegments(body);
  const encoding = smsEncoding(body);
  const [quickReplies, setQuickReplies] = useState<Array<{ title: string; body: string }>>([]);
  useEffect(() => {
    void unwrap(api.GET('/api/v1/quick-replies', {})).then(
      (r) => setQuickReplies(r.items),
      () => undefined,
    );
  }, []);

  async function send(event: React.FormEvent) {
    event.preventDefault();
    if (body.trim() === '') return;
    setSending(true);
    setProblem(null);
    try {
      const result = await unwrap(
        api.POST('/api/v1/conversations/{id}/messages', { params: { path: { id } }, body: { body } }),
      );
      onSent(result.conversation);
      const suppressed = 'suppressed_reason' in result ? result.suppressed_reason : null;
      if (suppressed) setProblem(`Not sent: ${suppressed.replaceAll('_', ' ')}`);
      else setBody('');
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setSending(false);
    }
  }

  return (
    <form className="composer" onSubmit={(e) => void send(e)}>
      {quickReplies.length > 0 && (
        <label className="inline">
          <span>Quick reply</span>
          <select value="" onChange={(e) => setBody(quickReplies[Number(e.target.value)]?.body ?? body)}>
            <option value="">Insert a saved reply</option>
            {quickReplies.map((q, i) => (
              <option key={q.title} value={i}>
                {q.title}
              </option>
            ))}
          </select>
        </label>
      )}
      <label htmlFor="composer-body">Text the caller</label>
      <textarea
        id="composer-body"
        rows={3}
        value={body}
        maxLength={1600}
        onChange={(e) => setBody(e.target.value)}
      />
      <div className="composer-foot">
        <span aria-live="polite" className="segments">
          {segments} {segments === 1 ? 'segment' : 'segments'} · {encoding}
        </span>
        <button type="submit" disabled={sending || body.trim() === ''}>
          Send
        </button>
      </div>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </form>
  );
}
