import { DateTime } from 'luxon';
import { AppError } from './errors.ts';
import { FUNNEL_FIELDS, type FunnelField, histogramPercentile } from './report-contributions.ts';

// Shaping the daily read models into what an owner asks for: a range of local dates, grouped by
// day or by ISO week (Monday first), every period present (zeros where nothing happened, so a chart
// has no holes), conversion between consecutive steps, and first-response percentiles against the
// 5 s objective (docs/reports.md).

export const FIRST_RESPONSE_OBJECTIVE_MS = 5_000;
export const MAX_REPORT_DAYS = 366;
const DEFAULT_DAYS = 30;

export type Group = 'day' | 'week';
export type DayTotals = { day: string } & Record<FunnelField, number>;

/** The dates of a report: both inclusive, the tenant's local dates; default the last 30 days to today. */
export function reportRange(input: {
  from?: string | undefined;
  to?: string | undefined;
  timeZone: string;
  nowMs: number;
}): { from: string; to: string } {
  const today = DateTime.fromMillis(input.nowMs, { zone: input.timeZone }).toISODate() as string;
  const to = input.to ?? (input.from ? addDays(input.from, DEFAULT_DAYS - 1) : today);
  const from = input.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new AppError('validation_failed', 'querystring.to: must not be before from');
  if (daysBetween(from, to) >= MAX_REPORT_DAYS)
    throw new AppError('validation_failed', `querystring.to: at most ${MAX_REPORT_DAYS} days`);
  return { from, to };
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The Monday of a date's ISO week. */
function weekStart(date: string): string {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7));
}

/** The periods of [from, to], each clipped to the range. */
export function periods(from: string, to: string, group: Group): { start: string; end: string }[] {
  const out: { start: string; end: string }[] = [];
  let start = from;
  while (start <= to) {
    const natural = group === 'day' ? start : addDays(weekStart(start), 6);
    const end = natural < to ? natural : to;
    out.push({ start, end });
    start = addDays(end, 1);
  }
  return out;
}

const STEPS = ['missed', 'texted', 'replied', 'quoted', 'held', 'booked', 'completed'] as const;

export type FunnelPeriod = {
  period_start: string;
  period_end: string;
  counts: Record<FunnelField, number>;
  /** Each step over the one before it (texted of missed, …, completed of booked); null when the one before is 0. */
  conversion: Record<Exclude<(typeof STEPS)[number], 'missed'>, number | null>;
  /** completed / (completed + no_show); null when neither. */
  show_rate: number | null;
  average_takeover_seconds: number | null;
};

const ratio = (a: number, b: number): number | null =>
  b === 0 ? null : Math.round((a / b) * 10_000) / 10_000;

function summarise(start: string, end: string, days: readonly DayTotals[]): FunnelPeriod {
  const counts = Object.fromEntries(FUNNEL_FIELDS.map((f) => [f, 0])) as Record<FunnelField, number>;
  for (const day of days) for (const f of FUNNEL_FIELDS) counts[f] += day[f];
  const conversion = Object.fromEntries(
    STEPS.slice(1).map((step, i) => [step, ratio(counts[step], counts[STEPS[i] as FunnelField])]),
  ) as FunnelPeriod['conversion'];
  return {
    period_start: start,
    period_end: end,
    counts,
    conversion,
    show_rate: ratio(counts.completed, counts.completed + counts.no_show),
    average_takeover_seconds:
      counts.taken_over === 0 ? null : Math.round(counts.takeover_seconds / counts.taken_over),
  };
}

/** The funnel per period of [from, to], and the whole range. */
export function funnelReport(
  from: string,
  to: string,
  group: Group,
  days: readonly DayTotals[],
): { periods: FunnelPeriod[]; total: FunnelPeriod } {
  return {
    periods: periods(from, to, group).map(({ start, end }) =>
      summarise(
        start,
        end,
        days.filter((d) => d.day >= start && d.day <= end),
      ),
    ),
    total: summarise(from, to, days),
  };
}

export type ResponseStats = {
  period_start: string;
  period_end: string;
  responses: number;
  /** Upper bound of the histogram bucket that reaches the percentile (ms); null without responses. */
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  within_objective: number;
  meets_objective: boolean | null;
};

function responseStats(
  start: string,
  end: string,
  rows: readonly { day: string; bucket_ms: number; responses: number }[],
): ResponseStats {
  const histogram = new Map<number, number>();
  for (const r of rows) histogram.set(r.bucket_ms, (histogram.get(r.bucket_ms) ?? 0) + r.responses);
  const responses = [...histogram.values()].reduce((a, b) => a + b, 0);
  const p95 = histogramPercentile(histogram, 0.95);
  return {
    period_start: start,
    period_end: end,
    responses,
    p50_ms: histogramPercentile(histogram, 0.5),
    p95_ms: p95,
    p99_ms: histogramPercentile(histogram, 0.99),
    within_objective: [...histogram.entries()]
      .filter(([bound]) => bound <= FIRST_RESPONSE_OBJECTIVE_MS)
      .reduce((n, [, count]) => n + count, 0),
    meets_objective: p95 === null ? null : p95 <= FIRST_RESPONSE_OBJECTIVE_MS,
  };
}

/** First-response latency per period of [from, to] and over the whole range, with its histogram. */
export function firstResponseReport(
  from: string,
  to: string,
  group: Group,
  rows: readonly { day: string; bucket_ms: number; responses: number }[],
): { periods: ResponseStats[]; total: ResponseStats; histogram: { le_ms: number; responses: number }[] } {
  const histogram = new Map<number, number>();
  for (const r of rows) histogram.set(r.bucket_ms, (histogram.get(r.bucket_ms) ?? 0) + r.responses);
  return {
    periods: periods(from, to, group).map(({ start, end }) =>
      responseStats(
        start,
        end,
        rows.filter((r) => r.day >= start && r.day <= end),
      ),
    ),
    total: responseStats(from, to, rows),
    histogram: [...histogram.entries()]
      .sort(([a], [b]) => a - b)
      .map(([le_ms, responses]) => ({ le_ms, responses })),
  };
}
