import { useEffect, useState } from 'react';
import { CSRF_HEADERS } from '../../lib/api.ts';
import { formatPhone } from '../../lib/format.ts';

// The phone simulator (sandbox only): a caller's phone in the browser. It calls the business
// through the same signed webhooks Twilio sends, and shows the texts that number receives, live.
// These endpoints are the simulator's own (/app/phone/api), not the business API.

type Text = { id: string; direction: 'sent' | 'received'; body: string; at: string; status: string };

function randomCaller(): string {
  // 555-01xx numbers are reserved for fiction.
  return `+1310555${String(100 + Math.floor(Math.random() * 100)).padStart(4, '0')}`;
}

async function post(path: string, body: unknown): Promise<void> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...CSRF_HEADERS },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const envelope = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(envelope?.error?.message ?? `the server answered ${response.status}`);
  }
}

export function PhonePage() {
  const [caller, setCaller] = useState(
    () => new URLSearchParams(window.location.search).get('from') ?? randomCaller(),
  );
  const [draft, setDraft] = useState(caller);
  const [business, setBusiness] = useState<string | null>(null);
  const [texts, setTexts] = useState<Text[] | null>(null);
  const [status, setStatus] = useState<string>('');
  const [reply, setReply] = useState('');

  useEffect(() => {
    void fetch('/app/phone/api/business')
      .then((r) => r.json() as Promise<{ number: string }>)
      .then((b) => setBusiness(b.number))
      .catch(() => setStatus('The phone simulator is not available on this server.'));
  }, []);

  useEffect(() => {
    setTexts(null);
    const source = new EventSource(`/app/phone/api/texts?number=${encodeURIComponent(caller)}`);
    source.addEventListener('texts', (message) =>
      setTexts((JSON.parse(message.data) as { items: Text[] }).items),
    );
    return () => source.close();
  }, [caller]);

  async function run(label: string, action: () => Promise<void>) {
    setStatus(`${label}…`);
    try {
      await action();
      setStatus(`${label}: done.`);
    } catch (err) {
      setStatus(`${label} failed: ${(err as Error).message}`);
    }
  }

  return (
    <section className="page phone" aria-labelledby="phone-title">
      <h1 id="phone-title">Phone simulator</h1>
      <p className="hint">
        A caller's phone, for trying the product: calls and texts reach{' '}
        {business ? formatPhone(business) : 'the business'} through the sandbox, exactly as Twilio would
        deliver them.
      </p>
      <form
        className="caller-form"
        onSubmit={(e) => {
          e.preventDefault();
          setCaller(draft.trim());
        }}
      >
        <label htmlFor="caller-number">Caller number</label>
        <input id="caller-number" type="tel" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit">Use this number</button>
        <button
          type="button"
          onClick={() => {
            const next = randomCaller();
            setDraft(next);
            setCaller(next);
          }}
        >
          New number
        </button>
      </form>
      <p>
        Calling as <strong data-testid="caller">{formatPhone(caller)}</strong>
      </p>
      <div className="actions">
        <button
          type="button"
          onClick={() =>
            void run('Calling (nobody answers)', () => post('/app/phone/api/calls', { from: caller }))
          }
        >
          Call the business (nobody answers)
        </button>
        <button
          type="button"
          onClick={() =>
            void run('Calling (the owner answers)', () =>
              post('/app/phone/api/calls', { from: caller, answered: true }),
            )
          }
        >
          Call and the owner answers
        </button>
      </div>
      <p role="status" className="notice">
        {status}
      </p>
      <h2>Texts</h2>
      {texts === null && <p role="status">Connecting…</p>}
      {texts?.length === 0 && <p className="empty">No texts yet. Call the business and let it ring.</p>}
      {texts && texts.length > 0 && (
        <ol className="transcript" aria-label="Texts on this phone">
          {texts.map((t) => (
            <li key={t.id} className={t.direction === 'sent' ? 'message message-in' : 'message message-out'}>
              <span className="speaker">{t.direction === 'sent' ? 'You' : 'Business'}</span>
              <p className="body">{t.body}</p>
            </li>
          ))}
        </ol>
      )}
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          const body = reply;
          void run('Sending', async () => {
            await post('/app/phone/api/texts', { from: caller, body });
            setReply('');
          });
        }}
      >
        <label htmlFor="phone-reply">Reply as the caller</label>
        <textarea id="phone-reply" rows={2} value={reply} onChange={(e) => setReply(e.target.value)} />
        <div className="composer-foot">
          <button type="submit" disabled={reply.trim() === ''}>
            Send text
          </button>
        </div>
      </form>
    </section>
  );
}
