import { AppError } from './errors.ts';
import { DAY_MS, wallToInstant, zoneOf } from './wall-time.ts';

// The window an operator lists appointments in. Either end is an instant or a date; a date is the
// tenant's local day (`from` its first instant, `to` inclusive: up to the next day's first
// instant). Without ends: the coming 7 days from now (or from `from`).

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DEFAULT_DAYS = 7;

function startOfLocalDay(date: string, timeZone: string): number {
  const zone = zoneOf(timeZone);
  if (!zone) throw new AppError('validation_failed', `unknown time zone ${timeZone}`);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return wallToInstant(zone, Date.UTC(y, m - 1, d)).ms;
}

function addLocalDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export function appointmentWindow(input: {
  from?: string | undefined;
  to?: string | undefined;
  timeZone: string;
  nowMs: number;
}): { fromMs: number; toMs: number } {
  const { from, to, timeZone } = input;
  const fromMs =
    from === undefined ? input.nowMs : DATE.test(from) ? startOfLocalDay(from, timeZone) : Date.parse(from);
  let toMs: number;
  if (to !== undefined)
    toMs = DATE.test(to) ? startOfLocalDay(addLocalDays(to, 1), timeZone) : Date.parse(to);
  else if (from !== undefined && DATE.test(from))
    toMs = startOfLocalDay(addLocalDays(from, DEFAULT_DAYS), timeZone);
  else toMs = fromMs + DEFAULT_DAYS * DAY_MS;
  if (!(toMs > fromMs)) throw new AppError('validation_failed', 'querystring.to: must be after from');
  return { fromMs, toMs };
}
