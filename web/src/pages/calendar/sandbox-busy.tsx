import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';
import { formatClock, formatTime } from '../../lib/format.ts';
import { currentSession } from '../../lib/session-store.ts';
import { localDate } from './calendar-day.ts';

// Sandbox only (the API has the route only outside production, with the Google sandbox running):
// add a busy event to the resource's sandbox calendar, as its owner would in Google Calendar, and
// watch the time leave the open times. The event reaches us the way a real one does — Google's
// push, then a sync of the mirror — so the list is asked again until the time is gone.

type Resource = components['schemas']['Resource'];
type Service = components['schemas']['Service'];
type Slot = { start: string; end: string };

const OPEN_TIMES_SHOWN = 8;
const WATCH_EVERY_MS = 500;
const WATCH_FOR_MS = 20_000;

export function SandboxBusy({ resource, onAdded }: { resource: Resource; onAdded: () => void }) {
  const zone = currentSession().tenant?.time_zone ?? 'UTC';
  const [service, setService] = useState<Service | null>(null);
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [start, setStart] = useState('');
  const [minutes, setMinutes] = useState(60);
  const [status, setStatus] = useState('');

  useEffect(() => {
    void unwrap(api.GET('/api/v1/services', {})).then(
      (r) => setService(r.items.find((s) => s.active) ?? null),
      (err: Error) => setStatus(err.message),
    );
  }, []);

  /** The open times of the first day that has any in the coming week. */
  const openTimes = useCallback(async (): Promise<Slot[]> => {
    if (!service) return [];
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const r = await unwrap(
      api.GET('/api/v1/availability', {
        params: { query: { service_id: service.id, resource_id: resource.id, from, to } },
      }),
    );
    const first = r.items[0];
    if (!first) return [];
    const day = localDate(first.start, zone);
    return r.items
      .filter((s) => localDate(s.start, zone) === day)
      .slice(0, OPEN_TIMES_SHOWN)
      .map((s) => ({ start: s.start, end: s.end }));
  }, [service, resource.id, zone]);

  useEffect(() => {
    const refresh = () =>
      void openTimes().then(
        (found) => {
          setSlots(found);
          setStart((current) => (found.some((s) => s.start === current) ? current : (found[0]?.start ?? '')));
        },
        (err: Error) => setStatus(err.message),
      );
    refresh();
    // A booking or a held time elsewhere takes an open time too.
    return onStreamEvent((event) => {
      if (event.event_name.startsWith('nmc.scheduling.') || event.event_name === 'nmc.conversation.TimeHeld')
        refresh();
    });
  }, [openTimes]);

  async function addBusy() {
    if (!start) return;
    const end = new Date(Date.parse(start) + minutes * 60_000).toISOString();
    const words = formatTime(start, zone);
    setStatus(`Adding a busy event at ${words}…`);
    try {
      await unwrap(
        api.POST('/api/v1/resources/{id}/calendar/sandbox-events', {
          params: { path: { id: resource.id } },
          body: { summary: 'Busy (sandbox)', start, end },
        }),
      );
    } catch (err) {
      setStatus(`Not added: ${(err as Error).message}`);
      return;
    }
    setStatus(`Busy event added at ${words}; waiting for Google's push…`);
    const until = Date.now() + WATCH_FOR_MS;
    while (Date.now() < until) {
      const found = await openTimes().catch(() => null);
      if (found && !found.some((s) => s.start === start)) {
        setSlots(found);
        setStart(found[0]?.start ?? '');
        setStatus(`${formatClock(start, zone)} is no longer offered: the busy event blocks it.`);
        onAdded();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, WATCH_EVERY_MS));
    }
    setStatus(`${formatClock(start, zone)} is still offered; the calendar has not synced yet.`);
    onAdded();
  }

  const selectId = `sandbox-start-${resource.id}`;
  const lengthId = `sandbox-length-${resource.id}`;
  return (
    <div className="sandbox-busy">
      <h4>Try it: add a busy event to the sandbox calendar</h4>
      {service && (
        <p className="hint">
          Open times for {service.name} with {resource.name}
        </p>
      )}
      {slots === null && !status && <p role="status">Finding open times…</p>}
      {slots?.length === 0 && <p className="empty">No open time in the coming week.</p>}
      {slots && slots.length > 0 && (
        <ul className="open-times" aria-label={`Open times with ${resource.name}`}>
          {slots.map((s) => (
            <li key={s.start}>{formatTime(s.start, zone)}</li>
          ))}
        </ul>
      )}
      <form
        className="reschedule"
        onSubmit={(e) => {
          e.preventDefault();
          void addBusy();
        }}
      >
        <label htmlFor={selectId}>Busy from</label>
        <select id={selectId} value={start} onChange={(e) => setStart(e.target.value)}>
          {(slots ?? []).map((s) => (
            <option key={s.start} value={s.start}>
              {formatTime(s.start, zone)}
            </option>
          ))}
        </select>
        <label htmlFor={lengthId}>For</label>
        <select id={lengthId} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
          <option value={30}>30 minutes</option>
          <option value={60}>1 hour</option>
          <option value={120}>2 hours</option>
        </select>
        <button type="submit" disabled={!start}>
          Add busy event
        </button>
      </form>
      <p className="notice" role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
