import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';
import { formatTime } from '../../lib/format.ts';

// Beside a thread, what is for the team only: who has it (assign to a teammate) and internal notes,
// which are stored and shown here and never sent to the caller.

type Teammate = components['schemas']['Teammate'];
type Note = components['schemas']['ConversationNote'];

export function TeamPanel({
  conversationId,
  assignedTo,
  zone,
  onAssigned,
}: {
  conversationId: string;
  assignedTo: string | null;
  zone: string;
  onAssigned: () => void;
}) {
  const [teammates, setTeammates] = useState<Teammate[]>([]);
  const [choice, setChoice] = useState('');
  const [notes, setNotes] = useState<Note[] | null>(null);
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const path = { params: { path: { id: conversationId } } };

  const loadNotes = useCallback(
    () =>
      void unwrap(
        api.GET('/api/v1/conversations/{id}/notes', { params: { path: { id: conversationId } } }),
      ).then(
        (r) => setNotes(r.items),
        (err: Error) => setProblem(err.message),
      ),
    [conversationId],
  );
  useEffect(() => {
    void unwrap(api.GET('/api/v1/teammates', {})).then(
      (r) => setTeammates(r.items),
      () => undefined,
    );
    loadNotes();
    return onStreamEvent((event) => {
      if (event.payload.conversation_id === conversationId) loadNotes();
    });
  }, [conversationId, loadNotes]);

  async function assign() {
    if (!choice) return;
    setProblem(null);
    try {
      await unwrap(api.POST('/api/v1/conversations/{id}/assign', { ...path, body: { user_id: choice } }));
      setChoice('');
      onAssigned();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  async function addNote(event: React.FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      await unwrap(api.POST('/api/v1/conversations/{id}/notes', { ...path, body: { body: draft } }));
      setDraft('');
      loadNotes();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  const holder = teammates.find((t) => t.id === assignedTo);
  return (
    <aside className="team-panel" aria-label="For the team">
      <h2>Assigned to</h2>
      <p>{assignedTo ? (holder?.name ?? 'a teammate') : 'Nobody: the assistant has it'}</p>
      <div className="assign">
        <label htmlFor="assign-to">Assign to</label>
        <select id="assign-to" value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">Pick a teammate</option>
          {teammates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <button type="button" disabled={!choice} onClick={() => void assign()}>
          Assign
        </button>
      </div>
      <h2>Internal notes</h2>
      <p className="hint">Only your team sees these; they are never texted.</p>
      {notes?.length === 0 && <p className="empty">No notes yet.</p>}
      <ul className="notes" aria-label="Internal notes">
        {notes?.map((n) => (
          <li key={n.id}>
            <p className="body">{n.body}</p>
            <span className="meta">
              {n.author_name ?? 'A teammate'} ·{' '}
              <time dateTime={n.created_at}>{formatTime(n.created_at, zone)}</time>
            </span>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void addNote(e)} className="composer">
        <label htmlFor="note-body">Add a note for the team</label>
        <textarea id="note-body" rows={2} value={draft} onChange={(e) => setDraft(e.target.value)} />
        <div className="composer-foot">
          <span />
          <button type="submit" disabled={draft.trim() === ''}>
            Add note
          </button>
        </div>
      </form>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </aside>
  );
}
