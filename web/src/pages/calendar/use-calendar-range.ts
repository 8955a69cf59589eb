import { useCallback, useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { onStreamEvent } from '../../lib/event-stream.ts';

// What the calendar shows for a range of local days: appointments, live holds and busy blocks from
// connected calendars. Bookings, moves, cancellations, outcomes, held times and conflicts arrive on
// the stream and refetch at once; a mirrored busy block has no event of its own, so the range is
// also refetched every half minute (and by whoever changes the calendar, through `reload`).

export type Appointment = components['schemas']['Appointment'];
export type LiveHold = components['schemas']['LiveHold'];
export type BusyBlock = components['schemas']['BusyBlock'];

export type CalendarRange = {
  appointments: Appointment[] | null;
  holds: LiveHold[];
  busy: BusyBlock[];
  error: string | null;
  reload: () => Promise<void>;
};

const REFRESH_MS = 30_000;

function refetches(eventName: string): boolean {
  return (
    eventName.startsWith('nmc.scheduling.') ||
    eventName === 'nmc.conversation.TimeHeld' ||
    eventName === 'nmc.conversation.OperatorAttentionNeeded'
  );
}

export function useCalendarRange(first: string, last: string): CalendarRange {
  const [appointments, setAppointments] = useState<Appointment[] | null>(null);
  const [holds, setHolds] = useState<LiveHold[]>([]);
  const [busy, setBusy] = useState<BusyBlock[]>([]);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    const query = { from: first, to: last };
    try {
      const [a, h, b] = await Promise.all([
        unwrap(api.GET('/api/v1/appointments', { params: { query: { ...query, limit: 200 } } })),
        unwrap(api.GET('/api/v1/holds', { params: { query: { ...query, limit: 500 } } })),
        unwrap(api.GET('/api/v1/calendar/busy', { params: { query: { ...query, limit: 500 } } })),
      ]);
      setAppointments(a.items);
      setHolds(h.items);
      setBusy(b.items);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [first, last]);

  useEffect(() => {
    setAppointments(null);
    void reload();
    const timer = setInterval(() => void reload(), REFRESH_MS);
    const unsubscribe = onStreamEvent((event) => {
      if (refetches(event.event_name)) void reload();
    });
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }, [reload]);

  return { appointments, holds, busy, error, reload };
}

/** The current time, ticking every `everyMs`: hold countdowns age without a refetch. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
