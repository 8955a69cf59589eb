import type { FunnelPeriod } from './dashboard-store.ts';

// What the dashboard shows of a funnel period, in order: each step with its count and its rate
// over the step it follows (the API's `conversion`; null when that step is 0), then what became of
// the bookings. Pure, so the chart, the table and the tiles say the same thing.

export type Step = { key: string; label: string; count: number; rate: number | null; of: string | null };

export function funnelSteps(p: FunnelPeriod): Step[] {
  const over = (count: number, base: number) => (base === 0 ? null : count / base);
  return [
    { key: 'missed', label: 'Missed calls', count: p.missed, rate: null, of: null },
    { key: 'texted', label: 'Texted back', count: p.texted, rate: p.conversion.texted, of: 'missed calls' },
    { key: 'replied', label: 'Replied', count: p.replied, rate: p.conversion.replied, of: 'texted' },
    { key: 'quoted', label: 'Quoted', count: p.quoted, rate: p.conversion.quoted, of: 'replied' },
    { key: 'held', label: 'Held a time', count: p.held, rate: p.conversion.held, of: 'quoted' },
    { key: 'booked', label: 'Booked', count: p.booked, rate: p.conversion.booked, of: 'held' },
    { key: 'reminded', label: 'Reminded', count: p.reminded, rate: over(p.reminded, p.booked), of: 'booked' },
    {
      key: 'completed',
      label: 'Completed',
      count: p.completed,
      rate: p.conversion.completed,
      of: 'booked',
    },
    { key: 'no_show', label: 'No-show', count: p.no_show, rate: over(p.no_show, p.booked), of: 'booked' },
    {
      key: 'cancelled',
      label: 'Cancelled',
      count: p.cancelled,
      rate: over(p.cancelled, p.booked),
      of: 'booked',
    },
  ];
}

export function formatRate(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)}%`;
}

/** A first-response percentile (the upper bound of its histogram bucket). */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '—';
  if (ms >= 2_147_483_647) return 'over 1 h';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** A local date (YYYY-MM-DD, already in the business's zone) as "Dec 3". */
export function shortDay(day: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(
    new Date(`${day}T12:00:00Z`),
  );
}
