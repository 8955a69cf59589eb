import { DateTime } from 'luxon';

// Whether an instant falls inside weekly business hours in a time zone. Used to pick the
// after-hours greeting. Weekdays are ISO (1 = Monday … 7 = Sunday).

export type WeeklyHours = Partial<
  Record<'1' | '2' | '3' | '4' | '5' | '6' | '7', { start: string; end: string }[]>
>;

export const DEFAULT_BUSINESS_HOURS: WeeklyHours = {
  '1': [{ start: '08:00', end: '17:00' }],
  '2': [{ start: '08:00', end: '17:00' }],
  '3': [{ start: '08:00', end: '17:00' }],
  '4': [{ start: '08:00', end: '17:00' }],
  '5': [{ start: '08:00', end: '17:00' }],
};

export function isWithinBusinessHours(at: string, timeZone: string, hours: WeeklyHours): boolean {
  const local = DateTime.fromISO(at, { zone: 'utc' }).setZone(timeZone);
  if (!local.isValid) return false;
  const intervals = hours[String(local.weekday) as keyof WeeklyHours] ?? [];
  const minute = local.hour * 60 + local.minute;
  return intervals.some(({ start, end }) => minute >= toMinutes(start) && minute < toMinutes(end));
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}
