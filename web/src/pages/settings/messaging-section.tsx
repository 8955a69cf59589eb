import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { smsEncoding, smsSegments } from '../../../../src/domain/gsm7.ts';
import { api, unwrap } from '../../lib/api.ts';
import { currentSession } from '../../lib/session-store.ts';

// The first text a missed call gets, in and after opening hours, with a live preview (the
// business's name in place of {business}) and its SMS segment count; and the public booking page.

type Settings = components['schemas']['MessagingSettings'];

function Greeting({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  const business = currentSession().tenant?.name ?? 'your business';
  const preview = value.replaceAll('{business}', business);
  const segments = smsSegments(preview);
  return (
    <div className="greeting">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={3} maxLength={320} value={value} onChange={(e) => onChange(e.target.value)} />
      <p className="preview-text">
        <span className="visually-hidden">Preview: </span>
        {preview || '(the default text)'}
      </p>
      <span className="segments">
        {segments} {segments === 1 ? 'segment' : 'segments'} · {smsEncoding(preview)}
      </span>
    </div>
  );
}

export function MessagingSection() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [greeting, setGreeting] = useState('');
  const [afterHours, setAfterHours] = useState('');
  const [status, setStatus] = useState('');
  const apply = useCallback((s: Settings) => {
    setSettings(s);
    setGreeting(s.greeting);
    setAfterHours(s.greeting_after_hours);
  }, []);
  useEffect(() => {
    void unwrap(api.GET('/api/v1/settings/messaging', {})).then(apply, (err: Error) =>
      setStatus(err.message),
    );
  }, [apply]);
  async function save(body: {
    greeting?: string;
    greeting_after_hours?: string;
    public_booking_enabled?: boolean;
  }) {
    setStatus('Saving…');
    try {
      apply(await unwrap(api.PATCH('/api/v1/settings/messaging', { body })));
      setStatus('Saved.');
    } catch (err) {
      setStatus(`Not saved: ${(err as Error).message}`);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="messaging-title">
      <h2 id="messaging-title">Greetings and public booking</h2>
      {!settings && !status && <p role="status">Loading…</p>}
      {settings && (
        <form
          className="stacked"
          onSubmit={(e) => {
            e.preventDefault();
            void save({ greeting, greeting_after_hours: afterHours });
          }}
        >
          <Greeting id="greeting" label="Greeting (open hours)" value={greeting} onChange={setGreeting} />
          <Greeting
            id="greeting-after-hours"
            label="Greeting (after hours)"
            value={afterHours}
            onChange={setAfterHours}
          />
          <p className="hint">
            Empty a greeting to go back to the default text. {'{business}'} is your name.
          </p>
          <button type="submit">Save greetings</button>
          <label className="inline">
            <input
              type="checkbox"
              checked={settings.public_booking_enabled}
              onChange={(e) => void save({ public_booking_enabled: e.target.checked })}
            />{' '}
            Public booking on
          </label>
          {settings.public_booking_enabled && (
            <p>
              Booking API for your website: <code>{settings.public_booking_url}</code>
            </p>
          )}
        </form>
      )}
      <p role="status" className="notice">
        {status}
      </p>
    </section>
  );
}
