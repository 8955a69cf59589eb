import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';
import { formatMoney, formatTime } from '../../lib/format.ts';
import { addDays, todayIn } from '../../lib/local-days.ts';

// Beside a thread: the caller's coming appointments, and "Book for this caller" — service, open
// times, hold, confirm — through the same holds API the assistant's bookings use, with the
// conversation named so the appointment shows up here and on the calendar with the caller.

type Appointment = components['schemas']['Appointment'];
type Service = components['schemas']['Service'];
type Hold = components['schemas']['Hold'];
type Slot = { resource_id: string; start: string };

export function CallerBookings({ conversationId, zone }: { conversationId: string; zone: string }) {
  const [appointments, setAppointments] = useState<Appointment[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = useCallback(() => {
    const today = todayIn(zone);
    void unwrap(
      api.GET('/api/v1/appointments', {
        params: { query: { from: today, to: addDays(today, 60), limit: 200 } },
      }),
    ).then(
      (r) => setAppointments(r.items.filter((a) => a.conversation_id === conversationId)),
      (err: Error) => setProblem(err.message),
    );
  }, [conversationId, zone]);
  useEffect(() => {
    load();
    return onStreamEvent((event) => {
      if (event.event_name.startsWith('nmc.scheduling.')) load();
    });
  }, [load]);
  return (
    <section className="bookings" aria-labelledby="bookings-title">
      <h2 id="bookings-title">Appointments</h2>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {appointments?.length === 0 && <p className="empty">None coming up.</p>}
      <ul className="notes" aria-label="This caller's appointments">
        {appointments?.map((a) => (
          <li key={a.id}>
            {formatTime(a.start, zone)} · {a.service_name ?? 'Service'} · {a.status}
          </li>
        ))}
      </ul>
      <BookForCaller conversationId={conversationId} zone={zone} onBooked={load} />
    </section>
  );
}

function BookForCaller({
  conversationId,
  zone,
  onBooked,
}: {
  conversationId: string;
  zone: string;
  onBooked: () => void;
}) {
  const [services, setServices] = useState<Service[]>([]);
  const [serviceId, setServiceId] = useState('');
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [start, setStart] = useState('');
  const [hold, setHold] = useState<Hold | null>(null);
  const [status, setStatus] = useState('');
  useEffect(() => {
    void unwrap(api.GET('/api/v1/services', {})).then(
      (r) => setServices(r.items.filter((s) => s.active)),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    setSlots(null);
    setStart('');
    if (!serviceId) return;
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 7 * 86_400_000).toISOString();
    void unwrap(
      api.GET('/api/v1/availability', { params: { query: { service_id: serviceId, from, to } } }),
    ).then(
      (r) => setSlots(r.items.slice(0, 40)),
      (err: Error) => setStatus(err.message),
    );
  }, [serviceId]);

  async function placeHold() {
    const slot = slots?.find((s) => s.start === start);
    if (!slot) return;
    setStatus('Holding…');
    try {
      const held = await unwrap(
        api.POST('/api/v1/holds', {
          body: {
            service_id: serviceId,
            resource_id: slot.resource_id,
            start,
            conversation_id: conversationId,
          },
        }),
      );
      setHold(held);
      setStatus(`Held until ${formatTime(held.expires_at, zone)}.`);
    } catch (err) {
      setStatus(`Not held: ${(err as Error).message}`);
    }
  }
  async function confirm() {
    if (!hold) return;
    try {
      await unwrap(api.POST('/api/v1/holds/{id}/confirm', { params: { path: { id: hold.id } }, body: {} }));
      setHold(null);
      setServiceId('');
      setStatus('Booked. Text the caller the time if they do not know it yet.');
      onBooked();
    } catch (err) {
      setStatus(`Not booked: ${(err as Error).message}`);
    }
  }
  async function release() {
    if (!hold) return;
    await unwrap(api.DELETE('/api/v1/holds/{id}', { params: { path: { id: hold.id } } })).catch(
      () => undefined,
    );
    setHold(null);
    setStatus('Released.');
  }
  const service = services.find((s) => s.id === serviceId);
  return (
    <div className="book">
      <h3>Book for this caller</h3>
      {!hold && (
        <>
          <label htmlFor="book-service">Service</label>
          <select id="book-service" value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
            <option value="">Pick a service</option>
            {services.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({formatMoney(s.price)}, {s.duration_minutes} min)
              </option>
            ))}
          </select>
          {serviceId && slots === null && <p role="status">Finding open times…</p>}
          {slots?.length === 0 && <p className="empty">No open time in the coming week.</p>}
          {slots && slots.length > 0 && (
            <>
              <label htmlFor="book-time">Open time</label>
              <select id="book-time" value={start} onChange={(e) => setStart(e.target.value)}>
                <option value="">Pick a time</option>
                {slots.map((s) => (
                  <option key={`${s.resource_id}-${s.start}`} value={s.start}>
                    {formatTime(s.start, zone)}
                  </option>
                ))}
              </select>
              <button type="button" disabled={!start} onClick={() => void placeHold()}>
                Hold this time
              </button>
            </>
          )}
        </>
      )}
      {hold && (
        <div className="actions">
          <button type="button" onClick={() => void confirm()}>
            Confirm booking{service ? ` of ${service.name}` : ''}
          </button>
          <button type="button" onClick={() => void release()}>
            Release hold
          </button>
        </div>
      )}
      <p role="status" className="notice">
        {status}
      </p>
    </div>
  );
}
