import { useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';

// Which of the account's calendars block time and which one receives bookings (at most one): the
// whole choice is saved at once (PUT …/calendar/calendars); a calendar left unticked neither
// blocks time nor receives bookings.

type Resource = components['schemas']['Resource'];
type AccountCalendar = components['schemas']['ResourceCalendar']['account_calendars'][number];

export function CalendarChoice({
  resource,
  calendars,
  onSaved,
}: {
  resource: Resource;
  calendars: AccountCalendar[];
  onSaved: () => void;
}) {
  const [blocks, setBlocks] = useState(
    () => new Set(calendars.filter((c) => c.blocks_time).map((c) => c.external_id)),
  );
  const [bookings, setBookings] = useState(
    () => calendars.find((c) => c.receives_bookings)?.external_id ?? '',
  );
  const [status, setStatus] = useState('');
  const group = `bookings-${resource.id}`;

  async function save() {
    setStatus('Saving…');
    try {
      await unwrap(
        api.PUT('/api/v1/resources/{id}/calendar/calendars', {
          params: { path: { id: resource.id } },
          body: {
            calendars: calendars.map((c) => ({
              external_id: c.external_id,
              blocks_time: blocks.has(c.external_id),
              receives_bookings: c.external_id === bookings,
            })),
          },
        }),
      );
      setStatus('Saved.');
      onSaved();
    } catch (err) {
      setStatus(`Not saved: ${(err as Error).message}`);
    }
  }

  return (
    <form
      className="calendar-choice"
      aria-label={`Choose the calendars of ${resource.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <fieldset>
        <legend>Busy time in these calendars blocks bookings</legend>
        {calendars.map((c) => (
          <label key={c.external_id} className="choice">
            <input
              type="checkbox"
              checked={blocks.has(c.external_id)}
              onChange={(e) => {
                const next = new Set(blocks);
                if (e.target.checked) next.add(c.external_id);
                else next.delete(c.external_id);
                setBlocks(next);
              }}
            />
            {c.summary}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Bookings are written into</legend>
        {calendars.map((c) => (
          <label key={c.external_id} className="choice">
            <input
              type="radio"
              name={group}
              checked={bookings === c.external_id}
              onChange={() => setBookings(c.external_id)}
            />
            {c.summary}
          </label>
        ))}
        <label className="choice">
          <input type="radio" name={group} checked={bookings === ''} onChange={() => setBookings('')} />
          No calendar
        </label>
      </fieldset>
      <button type="submit">Save calendars</button>
      <p className="notice" role="status">
        {status}
      </p>
    </form>
  );
}
