import { useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { addDays, todayIn } from '../../lib/local-days.ts';
import { currentSession } from '../../lib/session-store.ts';

// Opening hours per resource: a week of local intervals (split shifts: more than one a day), and
// dated exceptions (a holiday closed all day, or special hours). What is saved here is what the
// assistant offers next.

type Resource = components['schemas']['Resource'];
type Interval = { start: string; end: string };
type Week = Record<string, Interval[]>;

const DAYS: Array<[string, string]> = [
  ['1', 'Monday'],
  ['2', 'Tuesday'],
  ['3', 'Wednesday'],
  ['4', 'Thursday'],
  ['5', 'Friday'],
  ['6', 'Saturday'],
  ['7', 'Sunday'],
];

export function HoursSection() {
  const [resources, setResources] = useState<Resource[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    void unwrap(api.GET('/api/v1/resources', {})).then(
      (r) => setResources(r.items),
      (err: Error) => setError(err.message),
    );
  useEffect(load, []);
  return (
    <section className="settings-section" aria-labelledby="hours-title">
      <h2 id="hours-title">Opening hours</h2>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!resources && !error && <p role="status">Loading…</p>}
      {resources?.length === 0 && <p className="empty">No resources yet.</p>}
      {resources?.map((r) => (
        <ResourceHours key={r.id} resource={r} />
      ))}
      <NewResource onCreated={load} />
    </section>
  );
}

/** A new worker or team, in the business's zone, with no hours yet (set them above once added). */
function NewResource({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  async function create(event: React.FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      await unwrap(
        api.POST('/api/v1/resources', {
          body: { name: name.trim(), time_zone: currentSession().tenant?.time_zone ?? 'UTC' },
        }),
      );
      setName('');
      onCreated();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <form className="inline-form" onSubmit={(e) => void create(e)} aria-label="New resource">
      <label>
        <span>New worker or team</span>
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required />
      </label>
      <button type="submit">Add resource</button>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </form>
  );
}

function ResourceHours({ resource }: { resource: Resource }) {
  const [week, setWeek] = useState<Week>(() => structuredClone(resource.weekly_hours) as Week);
  const [status, setStatus] = useState('');
  const setDay = (day: string, intervals: Interval[]) => setWeek({ ...week, [day]: intervals });

  async function save(event: React.FormEvent) {
    event.preventDefault();
    setStatus('Saving…');
    const weekly_hours = Object.fromEntries(Object.entries(week).filter(([, list]) => list.length > 0));
    try {
      await unwrap(
        api.PATCH('/api/v1/resources/{id}', {
          params: { path: { id: resource.id } },
          body: { weekly_hours },
        }),
      );
      setStatus('Saved. New offers use these hours.');
    } catch (err) {
      setStatus(`Not saved: ${(err as Error).message}`);
    }
  }

  return (
    <form className="hours" onSubmit={(e) => void save(e)} aria-label={`Hours of ${resource.name}`}>
      <h3>{resource.name}</h3>
      <table>
        <caption className="visually-hidden">Weekly hours of {resource.name}</caption>
        <tbody>
          {DAYS.map(([day, name]) => {
            const intervals = week[day] ?? [];
            return (
              <tr key={day}>
                <th scope="row">{name}</th>
                <td>
                  {intervals.length === 0 && <span className="closed">Closed</span>}
                  {intervals.map((interval, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: intervals have no identity but their place
                    <span key={i} className="interval">
                      <input
                        type="time"
                        aria-label={`${name} shift ${i + 1} opens`}
                        value={interval.start}
                        onChange={(e) =>
                          setDay(
                            day,
                            intervals.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)),
                          )
                        }
                      />
                      –
                      <input
                        type="time"
                        aria-label={`${name} shift ${i + 1} closes`}
                        value={interval.end}
                        onChange={(e) =>
                          setDay(
                            day,
                            intervals.map((x, j) => (j === i ? { ...x, end: e.target.value } : x)),
                          )
                        }
                      />
                      <button
                        type="button"
                        className="link"
                        aria-label={`Remove ${name} shift ${i + 1}`}
                        onClick={() =>
                          setDay(
                            day,
                            intervals.filter((_, j) => j !== i),
                          )
                        }
                      >
                        Remove
                      </button>
                    </span>
                  ))}
                  <button
                    type="button"
                    className="link"
                    aria-label={`Add shift on ${name}`}
                    onClick={() => setDay(day, [...intervals, { start: '08:00', end: '17:00' }])}
                  >
                    Add shift
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="submit">Save hours of {resource.name}</button>
      <p role="status" className="notice">
        {status}
      </p>
      <Exceptions resource={resource} />
    </form>
  );
}

function Exceptions({ resource }: { resource: Resource }) {
  const [items, setItems] = useState<Array<{ date: string; intervals: Interval[] }> | null>(null);
  const [date, setDate] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const zone = currentSession().tenant?.time_zone ?? 'UTC';
  const today = todayIn(zone);
  const range = { from: today, to: addDays(today, 366) };
  const load = () =>
    void unwrap(
      api.GET('/api/v1/resources/{id}/exceptions', { params: { path: { id: resource.id }, query: range } }),
    ).then(
      (r) => setItems(r.items as Array<{ date: string; intervals: Interval[] }>),
      (err: Error) => setProblem(err.message),
    );
  // biome-ignore lint/correctness/useExhaustiveDependencies: loads once per resource
  useEffect(load, [resource.id]);
  async function closeDay() {
    if (!date) return;
    setProblem(null);
    try {
      await unwrap(
        api.PUT('/api/v1/resources/{id}/exceptions/{date}', {
          params: { path: { id: resource.id, date } },
          body: { intervals: [] },
        }),
      );
      setDate('');
      load();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <div className="exceptions">
      <h4>Holidays and special days</h4>
      {items?.length === 0 && <p className="empty">None.</p>}
      <ul>
        {items?.map((x) => (
          <li key={x.date}>
            {x.date}:{' '}
            {x.intervals.length === 0 ? 'closed' : x.intervals.map((i) => `${i.start}–${i.end}`).join(', ')}{' '}
            <button
              type="button"
              className="link"
              aria-label={`Remove the exception on ${x.date}`}
              onClick={() =>
                void unwrap(
                  api.DELETE('/api/v1/resources/{id}/exceptions/{date}', {
                    params: { path: { id: resource.id, date: x.date } },
                  }),
                ).then(load, (err: Error) => setProblem(err.message))
              }
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <label>
        <span>Closed all day on</span>
        <input type="date" value={date} onChange={(e) => setDate(e.target.value)} />
      </label>
      <button type="button" disabled={!date} onClick={() => void closeDay()}>
        Add holiday
      </button>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </div>
  );
}
