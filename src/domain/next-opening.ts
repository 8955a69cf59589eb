import { DateTime } from 'luxon';
import type { WeeklyHours } from './business-hours.ts';

// When a person at the business will next answer: the start of the next business-hours interval
// after `at`, in the business's zone. An after-hours handover says this ("when we open, Mon 8:00 AM")
// instead of "shortly". Null when open right now, or when no hours are set in the coming two weeks.

export function nextOpening(at: string, timeZone: string, hours: WeeklyHours): string | null {
  const now = DateTime.fromISO(at, { zone: 'utc' }).setZone(timeZone);
  if (!now.isValid) return null;
  let best: DateTime | null = null;
  for (let offset = 0; offset <= 14 && best === null; offset++) {
    const day = now.startOf('day').plus({ days: offset });
    const intervals = hours[String(day.weekday) as keyof WeeklyHours] ?? [];
    for (const { start, end } of intervals) {
      const [sh, sm] = start.split(':').map(Number);
      const [eh, em] = end.split(':').map(Number);
      const from = day.set({ hour: sh ?? 0, minute: sm ?? 0 });
      const to = day.set({ hour: eh ?? 0, minute: em ?? 0 });
      if (from <= now && now < to) return null;
      if (from > now && (best === null || from < best)) best = from;
    }
  }
  return best?.toUTC().toISO({ suppressMilliseconds: true }) ?? null;
}
