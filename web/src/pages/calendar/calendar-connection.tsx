import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { timeAgo } from '../../lib/format.ts';
import { CalendarChoice } from './calendar-choice.tsx';
import { SandboxBusy } from './sandbox-busy.tsx';

// A resource's Google Calendar (OWNER): connect it (the API answers Google's consent URL and the
// browser goes there; Google comes back to /app/calendar), see whether it is connected, which
// calendars block time and which one receives bookings and how fresh each is, change that choice,
// and disconnect it.
// Outside production, with the Google sandbox running, a busy event can be added to the sandbox
// calendar to watch the time leave the open times.

type Resource = components['schemas']['Resource'];
type ResourceCalendar = components['schemas']['ResourceCalendar'];
type LinkedCalendar = components['schemas']['LinkedCalendar'];

const MODE: Record<LinkedCalendar['mode'], string> = {
  push: 'kept fresh by push',
  poll: 'kept fresh by polling',
  off: 'not kept fresh',
};

export function CalendarConnection({ resource, onChanged }: { resource: Resource; onChanged: () => void }) {
  const [state, setState] = useState<ResourceCalendar | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const path = { params: { path: { id: resource.id } } };

  const load = useCallback(async () => {
    try {
      setState(
        await unwrap(api.GET('/api/v1/resources/{id}/calendar', { params: { path: { id: resource.id } } })),
      );
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [resource.id]);
  useEffect(() => {
    void load();
  }, [load]);

  async function connect() {
    setBusy(true);
    try {
      const { authorization_url } = await unwrap(
        api.GET('/api/v1/resources/{id}/calendar/connect', {
          params: { path: { id: resource.id }, query: { redirect: 'false' } },
        }),
      );
      // Google's consent page; it sends the browser back to /app/calendar.
      window.location.assign(authorization_url);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  async function disconnect() {
    if (
      !window.confirm(
        `Disconnect the Google Calendar of ${resource.name}? Its busy time stops blocking bookings.`,
      )
    )
      return;
    setBusy(true);
    try {
      await unwrap(api.DELETE('/api/v1/resources/{id}/calendar', path));
      await load();
      onChanged();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const connection = state?.connection ?? null;
  const headingId = `calendar-of-${resource.id}`;
  return (
    <section className="connection" aria-labelledby={headingId}>
      <h3 id={headingId}>Google Calendar of {resource.name}</h3>
      {state === null && !error && <p role="status">Loading the calendar connection…</p>}
      {error && (
        <div role="alert" className="error">
          <p>{error}</p>
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        </div>
      )}
      {state !== null && connection === null && (
        <>
          <p>Not connected. Busy time in Google Calendar does not block bookings yet.</p>
          <button type="button" disabled={busy} onClick={() => void connect()}>
            Connect Google Calendar
          </button>
        </>
      )}
      {connection !== null && (
        <>
          <p className="connection-status">
            {connection.status === 'active' ? (
              <>
                <strong>Connected</strong> to {connection.account}
              </>
            ) : (
              <strong>Access was revoked in Google: connect again</strong>
            )}
          </p>
          <ul className="linked-calendars" aria-label={`Calendars of ${resource.name}`}>
            {connection.calendars.map((c) => (
              <li key={c.id}>
                <strong>{c.summary}</strong>
                {' — '}
                {[
                  c.blocks_time ? 'blocks time' : null,
                  c.receives_bookings ? 'receives bookings' : null,
                  MODE[c.mode],
                  c.last_synced_at ? `synced ${timeAgo(c.last_synced_at)}` : 'not synced yet',
                ]
                  .filter(Boolean)
                  .join(' · ')}
                {c.sync_error && <span className="error"> · {c.sync_error}</span>}
              </li>
            ))}
          </ul>
          <div className="actions">
            {connection.status !== 'active' && (
              <button type="button" disabled={busy} onClick={() => void connect()}>
                Connect Google Calendar
              </button>
            )}
            <button type="button" className="secondary" disabled={busy} onClick={() => void disconnect()}>
              Disconnect
            </button>
          </div>
          {connection.status === 'active' && (state?.account_calendars.length ?? 0) > 0 && (
            <CalendarChoice
              key={connection.calendars
                .map((c) => `${c.external_id}:${c.blocks_time}:${c.receives_bookings}`)
                .join()}
              resource={resource}
              calendars={state?.account_calendars ?? []}
              onSaved={() => {
                void load();
                onChanged();
              }}
            />
          )}
          {state?.sandbox && connection.status === 'active' && (
            <SandboxBusy resource={resource} onAdded={onChanged} />
          )}
        </>
      )}
    </section>
  );
}
