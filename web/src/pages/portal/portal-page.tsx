import { useCallback, useEffect, useMemo, useState } from 'react';
import { createApiClient } from '../../../../src/api-client/index.ts';
import { ApiError, unwrap } from '../../lib/api.ts';
import { formatPhone, formatTime } from '../../lib/format.ts';

// The customer's page (/app/portal#code=…, from the link in a reminder text): no sign-in; the code
// in the fragment (which no server log sees) is exchanged for a short-lived portal token, and with
// it the customer sees every upcoming booking they have with the business — the one the link names
// first marked as such — and moves any of them to another open time, or cancels it.

type Booking = {
  booking_id: string;
  status: 'confirmed' | 'cancelled' | 'completed' | 'no_show';
  service_name: string | null;
  start: string;
  time_zone: string;
  upcoming: boolean;
  this_link: boolean;
};
type Bookings = { business: { name: string; phone: string | null }; items: Booking[] };

export function PortalPage() {
  const [token, setToken] = useState<string | null>(null);
  const [data, setData] = useState<Bookings | null>(null);
  const [moving, setMoving] = useState<{ bookingId: string; slots: string[] } | null>(null);
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
  const load = useCallback(async () => {
    try {
      setData(await unwrap(client.GET('/api/portal/bookings', {})));
    } catch (err) {
      setProblem(explain(err));
    }
  }, [client]);
  useEffect(() => {
    if (token) void load();
  }, [load, token]);

  async function findTimes(bookingId: string) {
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 7 * 86_400_000).toISOString();
    try {
      const open = await unwrap(
        client.GET('/api/portal/booking/availability', {
          params: { query: { from, to, booking_id: bookingId } },
        }),
      );
      setChoice('');
      setMoving({ bookingId, slots: open.items.map((s) => s.start).slice(0, 40) });
    } catch (err) {
      setStatus(explain(err));
    }
  }
  async function move(bookingId: string) {
    setStatus('Moving…');
    try {
      await unwrap(
        client.POST('/api/portal/booking/reschedule', {
          params: { query: { booking_id: bookingId } },
          body: { start: choice },
        }),
      );
      setMoving(null);
      setStatus('Moved. See you then!');
      await load();
    } catch (err) {
      setStatus(explain(err));
    }
  }
  async function cancel(booking: Booking, zone: string) {
    const what = `${booking.service_name ?? 'the appointment'} on ${formatTime(booking.start, zone)}`;
    if (!window.confirm(`Cancel ${what}?`)) return;
    try {
      await unwrap(
        client.POST('/api/portal/booking/cancel', { params: { query: { booking_id: booking.booking_id } } }),
      );
      setStatus(`Cancelled ${what}.`);
      // The link's own booking cancelled: the link stops working, so what is left is the message.
      if (booking.this_link) setData((d) => (d ? { ...d, items: d.items.filter((i) => i !== booking) } : d));
      else await load();
    } catch (err) {
      setStatus(explain(err));
    }
  }

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
          {data.items.length === 0 ? (
            <p className="empty">You have no upcoming appointment with us.</p>
          ) : (
            <ul className="portal-bookings" aria-label="Your upcoming appointments">
              {data.items.map((b) => {
                const zone = b.time_zone;
                const when = formatTime(b.start, zone);
                const name = b.service_name ?? 'Your appointment';
                return (
                  <li key={b.booking_id} className="booking-summary">
                    <strong>{name}</strong>
                    {b.this_link && <span className="badge">from your link</span>}
                    <br />
                    {when} · {b.status.replace('_', '-')}
                    {b.status === 'confirmed' && b.upcoming && (
                      <div className="actions">
                        <button
                          type="button"
                          aria-label={`Move it: ${name} on ${when}`}
                          onClick={() => void findTimes(b.booking_id)}
                        >
                          Move it
                        </button>
                        <button
                          type="button"
                          aria-label={`Cancel it: ${name} on ${when}`}
                          onClick={() => void cancel(b, zone)}
                        >
                          Cancel it
                        </button>
                      </div>
                    )}
                    {moving?.bookingId === b.booking_id && (
                      <form
                        className="reschedule"
                        onSubmit={(e) => {
                          e.preventDefault();
                          if (choice) void move(b.booking_id);
                        }}
                      >
                        <label htmlFor={`portal-time-${b.booking_id}`}>New time</label>
                        {moving.slots.length === 0 ? (
                          <p className="empty">No open time in the coming week. Please call us.</p>
                        ) : (
                          <select
                            id={`portal-time-${b.booking_id}`}
                            value={choice}
                            onChange={(e) => setChoice(e.target.value)}
                          >
                            <option value="">Pick a time</option>
                            {moving.slots.map((s) => (
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
                  </li>
                );
              })}
            </ul>
          )}
          {data.business.phone && (
            <p>
              Questions? Call <a href={`tel:${data.business.phone}`}>{formatPhone(data.business.phone)}</a>.
            </p>
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
