import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';
import { formatClock, formatMoney, formatPhone, formatTime } from '../../lib/format.ts';
import { addDays, dayTitle, todayIn, weekStart } from '../../lib/local-days.ts';
import { followLink } from '../../lib/router.ts';
import { currentSession } from '../../lib/session-store.ts';

// The calendar: a day or a week of appointments in the business's time zone, per resource, each
// with its customer, service and price, and what a person does with one (mark it completed or a
// no-show, cancel it, move it to another open time). It refetches when the stream reports a
// booking, a move, a cancellation or an outcome.

type Appointment = components['schemas']['Appointment'];
type Resource = components['schemas']['Resource'];
type Service = components['schemas']['Service'];
type View = 'day' | 'week';

const STATUS: Record<Appointment['status'], string> = {
  confirmed: 'Confirmed',
  cancelled: 'Cancelled',
  completed: 'Completed',
  no_show: 'No-show',
};

export function CalendarPage() {
  const zone = currentSession().tenant?.time_zone ?? 'UTC';
  const [view, setView] = useState<View>('week');
  const [anchor, setAnchor] = useState(() => todayIn(zone));
  const [resourceId, setResourceId] = useState<string>('all');
  const [resources, setResources] = useState<Resource[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [appointments, setAppointments] = useState<Appointment[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const first = view === 'week' ? weekStart(anchor) : anchor;
  const days = Array.from({ length: view === 'week' ? 7 : 1 }, (_, i) => addDays(first, i));
  const last = days[days.length - 1] ?? first;

  const load = useCallback(async () => {
    try {
      const page = await unwrap(
        api.GET('/api/v1/appointments', { params: { query: { from: first, to: last, limit: 200 } } }),
      );
      setAppointments(page.items);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [first, last]);

  useEffect(() => {
    void unwrap(api.GET('/api/v1/resources', {})).then(
      (r) => setResources(r.items),
      () => undefined,
    );
    void unwrap(api.GET('/api/v1/services', {})).then(
      (s) => setServices(s.items),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    setAppointments(null);
    void load();
    return onStreamEvent((event) => {
      if (event.event_name.startsWith('nmc.scheduling.')) void load();
    });
  }, [load]);

  const shown = (appointments ?? []).filter((a) => resourceId === 'all' || a.resource_id === resourceId);
  const step = view === 'week' ? 7 : 1;
  return (
    <section className="page" aria-labelledby="calendar-title">
      <div className="page-head">
        <h1 id="calendar-title">Calendar</h1>
        <span className="hint">Times in {zone.replaceAll('_', ' ')}</span>
      </div>
      <div className="toolbar calendar-toolbar">
        <fieldset className="filters">
          <legend className="visually-hidden">View</legend>
          <button type="button" aria-pressed={view === 'day'} onClick={() => setView('day')}>
            Day
          </button>
          <button type="button" aria-pressed={view === 'week'} onClick={() => setView('week')}>
            Week
          </button>
        </fieldset>
        <div className="filters">
          <button type="button" aria-pressed="false" onClick={() => setAnchor(addDays(anchor, -step))}>
            Previous
          </button>
          <button type="button" aria-pressed="false" onClick={() => setAnchor(todayIn(zone))}>
            Today
          </button>
          <button type="button" aria-pressed="false" onClick={() => setAnchor(addDays(anchor, step))}>
            Next
          </button>
        </div>
        {resources.length > 1 && (
          <label>
            <span>Resource</span>
            <select value={resourceId} onChange={(e) => setResourceId(e.target.value)}>
              <option value="all">Everyone</option>
              {resources.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <p className="range" aria-live="polite">
        {view === 'week' ? `${dayTitle(first)} – ${dayTitle(last)}` : dayTitle(first)}
      </p>
      {error && (
        <div role="alert" className="error">
          <p>The calendar could not be loaded: {error}</p>
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        </div>
      )}
      {appointments === null && !error && <p role="status">Loading appointments…</p>}
      {appointments !== null &&
        days.map((day) => {
          const today = shown
            .filter((a) => a.start_local.slice(0, 10) === day)
            .sort((a, b) => a.start.localeCompare(b.start));
          return (
            <section key={day} className="day" aria-label={dayTitle(day)}>
              <h2>{dayTitle(day)}</h2>
              {today.length === 0 ? (
                <p className="empty">No appointments.</p>
              ) : (
                <ul className="appointments">
                  {today.map((a) => (
                    <AppointmentCard
                      key={a.id}
                      appointment={a}
                      zone={zone}
                      resource={resources.find((r) => r.id === a.resource_id)}
                      service={services.find((s) => s.id === a.service_id)}
                      onChanged={() => void load()}
                    />
                  ))}
                </ul>
              )}
            </section>
          );
        })}
    </section>
  );
}

function AppointmentCard({
  appointment: a,
  zone,
  resource,
  service,
  onChanged,
}: {
  appointment: Appointment;
  zone: string;
  resource: Resource | undefined;
  service: Service | undefined;
  onChanged: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [moving, setMoving] = useState(false);
  const who = a.customer ? (a.customer.name ?? formatPhone(a.customer.phone)) : 'Customer unknown';
  const title = `${formatClock(a.start, zone)}–${formatClock(a.end, zone)} ${a.service_name ?? 'Service'} for ${who}`;

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setProblem(null);
    try {
      await action();
      onChanged();
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  const path = { params: { path: { id: a.id } } };
  const live = a.status === 'confirmed';
  return (
    <li className={`appointment appointment-${a.status}`}>
      <h3>{title}</h3>
      <p className="meta">
        {STATUS[a.status]}
        {service && <> · {formatMoney(service.price)}</>}
        {resource && <> · {resource.name}</>}
        {a.customer && <> · {formatPhone(a.customer.phone)}</>}
        {a.conversation_id && (
          <>
            {' '}
            ·{' '}
            <a href={`/app/conversations/${a.conversation_id}`} onClick={followLink}>
              Conversation
            </a>
          </>
        )}
      </p>
      {live && (
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            aria-label={`Mark completed: ${title}`}
            onClick={() =>
              void run(() =>
                unwrap(
                  api.POST('/api/v1/appointments/{id}/outcome', { ...path, body: { outcome: 'completed' } }),
                ),
              )
            }
          >
            Completed
          </button>
          <button
            type="button"
            disabled={busy}
            aria-label={`Mark no-show: ${title}`}
            onClick={() =>
              void run(() =>
                unwrap(
                  api.POST('/api/v1/appointments/{id}/outcome', { ...path, body: { outcome: 'no_show' } }),
                ),
              )
            }
          >
            No-show
          </button>
          <button
            type="button"
            disabled={busy}
            aria-label={`Reschedule: ${title}`}
            onClick={() => setMoving(!moving)}
          >
            Reschedule
          </button>
          <button
            type="button"
            disabled={busy}
            aria-label={`Cancel: ${title}`}
            onClick={() => {
              if (window.confirm(`Cancel ${title}? The customer is not texted by this.`))
                void run(() => unwrap(api.POST('/api/v1/appointments/{id}/cancel', { ...path, body: {} })));
            }}
          >
            Cancel
          </button>
        </div>
      )}
      {moving && live && (
        <Reschedule
          appointment={a}
          zone={zone}
          onMoved={() => {
            setMoving(false);
            onChanged();
          }}
        />
      )}
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </li>
  );
}

function Reschedule({
  appointment: a,
  zone,
  onMoved,
}: {
  appointment: Appointment;
  zone: string;
  onMoved: () => void;
}) {
  const [slots, setSlots] = useState<Array<{ start: string; resource_id: string }> | null>(null);
  const [choice, setChoice] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const from = new Date(Math.max(Date.now(), Date.parse(a.start) - 86_400_000)).toISOString();
    const to = new Date(Date.parse(from) + 7 * 86_400_000).toISOString();
    void unwrap(
      api.GET('/api/v1/availability', {
        params: { query: { service_id: a.service_id, resource_id: a.resource_id, from, to } },
      }),
    ).then(
      (r) => setSlots(r.items.slice(0, 40)),
      (err: Error) => setProblem(err.message),
    );
  }, [a]);
  const id = `move-${a.id}`;
  return (
    <form
      className="reschedule"
      onSubmit={(e) => {
        e.preventDefault();
        if (!choice) return;
        void unwrap(
          api.POST('/api/v1/appointments/{id}/reschedule', {
            params: { path: { id: a.id } },
            body: { start: choice },
          }),
        ).then(onMoved, (err: Error) => setProblem(err.message));
      }}
    >
      <label htmlFor={id}>New time</label>
      {slots === null && !problem && <p role="status">Finding open times…</p>}
      {slots && slots.length === 0 && <p className="empty">No open time in the coming week.</p>}
      {slots && slots.length > 0 && (
        <select id={id} value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">Pick a time</option>
          {slots.map((s) => (
            <option key={s.start} value={s.start}>
              {formatTime(s.start, zone)}
            </option>
          ))}
        </select>
      )}
      <button type="submit" disabled={!choice}>
        Move it
      </button>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </form>
  );
}
