import { useEffect, useMemo, useState } from 'react';
import { createApiClient } from '../../../../src/api-client/index.ts';
import { ApiError, unwrap } from '../../lib/api.ts';
import { formatPhone, formatTime } from '../../lib/format.ts';

// The customer's page (/app/portal#code=…, from the link in a reminder text): no sign-in; the code
// in the fragment (which no server log sees) is exchanged for a short-lived portal token, and with
// it the customer sees their booking, moves it to another open time, or cancels it.

type Booking = {
  business: { name: string; phone: string | null };
  booking: {
    status: 'confirmed' | 'cancelled' | 'completed' | 'no_show';
    service_name: string | null;
    start: string;
    time_zone: string;
    upcoming: boolean;
  };
};

export function PortalPage() {
  const [token, setToken] = useState<string | null>(null);
  const [data, setData] = useState<Booking | null>(null);
  const [slots, setSlots] = useState<string[] | null>(null);
  const [choice, setChoice] = useState('');
  const [status, setStatus] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const client = useMemo(
    () => createApiClient({ baseUrl: window.location.origin, ...(token ? { token } : {}) }),
    [token],
  );

  useEffect(() => {
    const code = new URLSearchParams(window.location.hash.slice(1)).get('code');
    if (!code) {
      setProblem('This link is incomplete. Open the link from your text message again.');
      return;
    }
    void unwrap(
      createApiClient({ baseUrl: window.location.origin }).POST('/api/portal/sessions', { body: { code } }),
    )
      .then((session) => setToken(session.token))
      .catch((err: unknown) => setProblem(explain(err)));
  }, []);
  useEffect(() => {
    if (!token) return;
    void unwrap(client.GET('/api/portal/booking', {})).then(setData, (err: unknown) =>
      setProblem(explain(err)),
    );
  }, [client, token]);

  async function findTimes() {
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 7 * 86_400_000).toISOString();
    try {
      const open = await unwrap(
        client.GET('/api/portal/booking/availability', { params: { query: { from, to } } }),
      );
      setSlots(open.items.map((s) => s.start).slice(0, 40));
    } catch (err) {
      setProblem(explain(err));
    }
  }
  async function move() {
    setStatus('Moving…');
    try {
      setData(await unwrap(client.POST('/api/portal/booking/reschedule', { body: { start: choice } })));
      setSlots(null);
      setStatus('Moved. See you then!');
    } catch (err) {
      setStatus(explain(err));
    }
  }
  async function cancel() {
    if (!window.confirm('Cancel this appointment?')) return;
    try {
      setData(await unwrap(client.POST('/api/portal/booking/cancel', {})));
      setStatus('Cancelled.');
    } catch (err) {
      setStatus(explain(err));
    }
  }

  const zone = data?.booking.time_zone ?? 'UTC';
  return (
    <main id="main" className="page portal" aria-labelledby="portal-title">
      <h1 id="portal-title">{data ? data.business.name : 'Your appointment'}</h1>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!data && !problem && <p role="status">Loading your appointment…</p>}
      {data && (
        <>
          <p className="booking-summary">
            <strong>{data.booking.service_name ?? 'Your appointment'}</strong>
            <br />
            {formatTime(data.booking.start, zone)} · {data.booking.status.replace('_', '-')}
          </p>
          {data.business.phone && (
            <p>
              Questions? Call <a href={`tel:${data.business.phone}`}>{formatPhone(data.business.phone)}</a>.
            </p>
          )}
          {data.booking.status === 'confirmed' && data.booking.upcoming && (
            <div className="actions">
              <button type="button" onClick={() => void findTimes()}>
                Move it
              </button>
              <button type="button" onClick={() => void cancel()}>
                Cancel it
              </button>
            </div>
          )}
          {slots && (
            <form
              className="reschedule"
              onSubmit={(e) => {
                e.preventDefault();
                if (choice) void move();
              }}
            >
              <label htmlFor="portal-time">New time</label>
              {slots.length === 0 ? (
                <p className="empty">No open time in the coming week. Please call us.</p>
              ) : (
                <select id="portal-time" value={choice} onChange={(e) => setChoice(e.target.value)}>
                  <option value="">Pick a time</option>
                  {slots.map((s) => (
                    <option key={s} value={s}>
                      {formatTime(s, zone)}
                    </option>
                  ))}
                </select>
              )}
              <button type="submit" disabled={!choice}>
                Move to this time
              </button>
            </form>
          )}
          <p role="status" className="notice">
            {status}
          </p>
        </>
      )}
    </main>
  );
}

function explain(err: unknown): string {
  if (err instanceof ApiError && err.code === 'gone') return err.message;
  if (err instanceof ApiError && (err.status === 404 || err.status === 401))
    return 'This link is not valid any more. Please call the business.';
  return (err as Error).message;
}
