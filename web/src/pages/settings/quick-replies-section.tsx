import { useEffect, useState } from 'react';
import { api, unwrap } from '../../lib/api.ts';

// The business's saved quick replies: what operators insert into the composer with one pick.

type QuickReply = { title: string; body: string };

export function QuickRepliesSection() {
  const [items, setItems] = useState<QuickReply[] | null>(null);
  const [status, setStatus] = useState('');
  useEffect(() => {
    void unwrap(api.GET('/api/v1/quick-replies', {})).then(
      (r) => setItems(r.items),
      (err: Error) => setStatus(err.message),
    );
  }, []);
  const set = (i: number, change: Partial<QuickReply>) =>
    setItems((items ?? []).map((item, j) => (j === i ? { ...item, ...change } : item)));
  async function save(event: React.FormEvent) {
    event.preventDefault();
    setStatus('Saving…');
    try {
      const saved = await unwrap(api.PUT('/api/v1/quick-replies', { body: { items: items ?? [] } }));
      setItems(saved.items);
      setStatus('Saved.');
    } catch (err) {
      setStatus(`Not saved: ${(err as Error).message}`);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="quick-title">
      <h2 id="quick-title">Quick replies</h2>
      {!items && !status && <p role="status">Loading…</p>}
      {items && (
        <form className="stacked" onSubmit={(e) => void save(e)}>
          {items.length === 0 && <p className="empty">No saved replies yet.</p>}
          {items.map((item, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a reply's place is its identity here
            <fieldset key={i} className="quick-reply">
              <legend>Reply {i + 1}</legend>
              <label>
                <span>Title</span>
                <input value={item.title} onChange={(e) => set(i, { title: e.target.value })} required />
              </label>
              <label>
                <span>Text</span>
                <textarea
                  rows={2}
                  value={item.body}
                  onChange={(e) => set(i, { body: e.target.value })}
                  required
                />
              </label>
              <button
                type="button"
                className="link"
                onClick={() => setItems(items.filter((_, j) => j !== i))}
              >
                Remove reply {i + 1}
              </button>
            </fieldset>
          ))}
          <div className="actions">
            <button type="button" onClick={() => setItems([...items, { title: '', body: '' }])}>
              Add a reply
            </button>
            <button type="submit">Save quick replies</button>
          </div>
        </form>
      )}
      <p role="status" className="notice">
        {status}
      </p>
    </section>
  );
}
