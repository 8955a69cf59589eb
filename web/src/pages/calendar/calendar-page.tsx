import { useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { formatClock, formatMoney, formatPhone, formatTime } from '../../lib/format.ts';
import { addDays, dayTitle, todayIn, weekStart } from '../../lib/local-days.ts';
import { followLink, navigate, routerStore } from '../../lib/router.ts';
import { currentSession } from '../../lib/session-store.ts';
import { useSelector } from '../../lib/use-store.ts';
import { CalendarConnection } from './calendar-connection.tsx';
import { entriesOnDay, expiryWords, localDate, unexpired } from './calendar-day.ts';
import {
  type Appointment,
  type BusyBlock,
  type LiveHold,
  useCalendarRange,
  useNow,
} from './use-calendar-range.ts';

// The calendar: a day or a week in the business's time zone, per resource: appointments with their
// customer, service and price, and what a person does with one (mark it completed or a no-show,
// cancel it, move it to another open time); times held for someone with their expiry; busy time
// from connected calendars (when only, never what). An appointment that something in the owner's
// calendar now overlaps is marked as needing attention. The OWNER connects each resource's Google
// Calendar here.

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
  const [error, setError] = useState<string | null>(null);
  const session = currentSession();
  const owner = session.role === 'OWNER';
  const search = useSelector(routerStore, (ctx) => ctx.search);

  const first = view === 'week' ? weekStart(anchor) : anchor;
  const days = Array.from({ length: view === 'week' ? 7 : 1 }, (_, i) => addDays(first, i));
  const last = days[days.length - 1] ?? first;
  const range = useCalendarRange(first, last);
  const { appointments } = range;
  const now = useNow(15_000);

  useEffect(() => {
    void unwrap(api.GET('/api/v1/resources', {})).then(
      (r) => setResources(r.items),
      (err: Error) => setError(err.message),
    );
    void unwrap(api.GET('/api/v1/services', {})).then(
      (s) => setServices(s.items),
      () => undefined,
    );
  }, []);

  const mine = <T extends { resource_id: string }>(items: readonly T[]) =>
    items.filter((i) => resourceId === 'all' || i.resource_id === resourceId);
  const shown = mine(appointments ?? []);
  const holds = mine(unexpired(range.holds, now));
  const busy = mine(range.busy);
  const loadError = range.error ?? error;
  const returned = new URLSearchParams(search);
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
      {returned.get('calendar') === 'connected' && (
        <p className="banner" role="status">
          Google Calendar connected: its busy time now blocks bookings.{' '}
          <button type="button" className="link" onClick={() => navigate('/app/calendar', { replace: true })}>
            Dismiss
          </button>
        </p>
      )}
      {returned.get('calendar_error') && (
        <p className="banner banner-alert" role="alert">
          Google Calendar was not connected ({returned.get('calendar_error')}). Try again.
        </p>
      )}
      {loadError && (
        <div role="alert" className="error">
          <p>The calendar could not be loaded: {loadError}</p>
          <button type="button" onClick={() => void range.reload()}>
            Try again
          </button>
        </div>
      )}
      {appointments === null && !loadError && <p role="status">Loading appointments…</p>}
      {appointments !== null &&
        days.map((day) => {
          const booked = shown.filter((a) => a.start_local.slice(0, 10) === day);
          const held = entriesOnDay(holds, day, zone);
          const blocked = entriesOnDay(busy, day, zone);
          return (
            <section key={day} className="day" aria-label={dayTitle(day)}>
              <h2>{dayTitle(day)}</h2>
              {booked.length + held.length + blocked.length === 0 ? (
                <p className="empty">No appointments.</p>
              ) : (
                <ul className="appointments">
                  {[
                    ...booked.map((a) => ({
                      start: a.start,
                      entry: (
                        <AppointmentCard
                          key={a.id}
                          appointment={a}
                          zone={zone}
                          resource={resources.find((r) => r.id === a.resource_id)}
                          service={services.find((s) => s.id === a.service_id)}
                          onChanged={() => void range.reload()}
                        />
                      ),
                    })),
                    ...held.map((h) => ({
                      start: h.start,
                      entry: (
                        <HoldEntry
                          key={h.id}
                          hold={h}
                          zone={zone}
                          now={now}
                          resource={resources.find((r) => r.id === h.resource_id)}
                          service={services.find((s) => s.id === h.service_id)}
                        />
                      ),
                    })),
                    ...blocked.map((b) => ({
                      start: b.start,
                      entry: (
                        <BusyEntry
                          key={b.id}
                          block={b}
                          zone={zone}
                          resource={resources.find((r) => r.id === b.resource_id)}
                        />
                      ),
                    })),
                  ]
                    // One timeline: what is booked, held and busy, in the order of the day.
                    .sort((x, y) => x.start.localeCompare(y.start))
                    .map((x) => x.entry)}
                </ul>
              )}
            </section>
          );
        })}
      {owner && resources.length > 0 && (
        <section className="settings-section" aria-labelledby="connections-title">
          <h2 id="connections-title">Connected calendars</h2>
          <p className="hint">
            Busy time in a connected Google Calendar hides those times from the open times; bookings are
            written into it.
          </p>
          {resources
            .filter((r) => resourceId === 'all' || r.id === resourceId)
            .map((r) => (
              <CalendarConnection key={r.id} resource={r} onChanged={() => void range.reload()} />
            ))}
        </section>
      )}
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
    <li className={`appointment appointment-${a.status}${a.needs_attention ? ' needs-attention' : ''}`}>
      <h3>{title}</h3>
      {a.needs_attention && (
        <p className="attention">
          <strong>Needs attention:</strong> the owner's calendar is busy{' '}
          {a.calendar_conflicts
            .map((c) => `${formatTime(c.busy.start, zone)}–${formatClock(c.busy.end, zone)}`)
            .join(', ')}
          , overlapping this appointment. Nothing was cancelled.
        </p>
      )}
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

function HoldEntry({
  hold: h,
  zone,
  now,
  resource,
  service,
}: {
  hold: LiveHold;
  zone: string;
  now: number;
  resource: Resource | undefined;
  service: Service | undefined;
}) {
  return (
    <li className="appointment hold">
      <h3>
        {formatClock(h.start, zone)}–{formatClock(h.end, zone)} Held: {service?.name ?? 'Service'}
      </h3>
      <p className="meta">
        Until {formatClock(h.expires_at, zone)} ({expiryWords(h.expires_at, now)})
        {resource && <> · {resource.name}</>}
        {h.conversation_id && (
          <>
            {' '}
            ·{' '}
            <a href={`/app/conversations/${h.conversation_id}`} onClick={followLink}>
              Conversation
            </a>
          </>
        )}
      </p>
    </li>
  );
}

function BusyEntry({
  block: b,
  zone,
  resource,
}: {
  block: BusyBlock;
  zone: string;
  resource: Resource | undefined;
}) {
  return (
    <li className="appointment busy-block">
      <h3>{spanWords(b, zone)} Busy</h3>
      <p className="meta">
        From {b.source === 'google' ? 'Google Calendar' : 'Jobber'}
        {resource && <> · {resource.name}</>}
      </p>
    </li>
  );
}

/** "9:30 AM–11:00 AM" within a day; with the days when the block spans several. */
function spanWords(b: { start: string; end: string }, zone: string): string {
  const lastInstant = new Date(Date.parse(b.end) - 1).toISOString();
  if (localDate(b.start, zone) === localDate(lastInstant, zone))
    return `${formatClock(b.start, zone)}–${formatClock(b.end, zone)}`;
  return `${formatTime(b.start, zone)}–${formatTime(b.end, zone)}`;
}
