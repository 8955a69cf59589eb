import type { IANAZone } from 'luxon';
import { DAY_MS, MINUTE_MS, wallOf, wallToInstant } from './wall-time.ts';

// When an alert text to one person may leave: their quiet hours (local wall-clock minutes in the
// tenant's zone, possibly across midnight) and the rate limits (one text per conversation per person
// within a window, a cap per person per hour). Pure: the caller gives the clock, the zone and the
// texts already decided for that person.
//
// Decisions:
// - A first alert text that falls in quiet hours is held until they end (not dropped): the person
//   learns of it when their day starts, unless someone acknowledged it meanwhile. A reminder that
//   falls in quiet hours is skipped: the held first text already covers it.
// - Urgent alerts ignore quiet hours, and a non-urgent text in the window does not stop an urgent
//   one for the same conversation (an emergency after a handover request still reaches people). The
//   hourly cap holds for every text: it protects a phone from a flood.

export type QuietHours = { startMinute: number; endMinute: number };

export type AlertLimits = { conversationWindowMs: number; hourlyCap: number };

/** A text already decided for the same person (queued, being sent or sent), at the instant it leaves. */
export type PriorText = { conversationId: string; at: number; urgent: boolean };

export type AlertTextPlan =
  | { kind: 'send'; at: number; held: boolean }
  | { kind: 'skip'; reason: 'quiet_hours' | 'conversation_window' | 'hourly_cap' };

const HOUR_MS = 60 * MINUTE_MS;

/**
 * The instant the quiet hours containing `atMs` end, or null when `atMs` is outside them. Equal
 * start and end mean no quiet hours. An end that does not exist that day (inside a spring-forward
 * gap) ends at the transition; an ambiguous one (fall back) at its first occurrence.
 */
export function quietHoursEnd(quiet: QuietHours | null, zone: IANAZone, atMs: number): number | null {
  if (!quiet || quiet.startMinute === quiet.endMinute) return null;
  const wall = wallOf(zone, atMs);
  const day = Math.floor(wall / DAY_MS);
  const minute = Math.floor((wall - day * DAY_MS) / MINUTE_MS);
  const { startMinute: start, endMinute: end } = quiet;
  let endDay: number;
  if (start < end) {
    if (minute < start || minute >= end) return null;
    endDay = day;
  } else if (minute >= start) {
    endDay = day + 1;
  } else if (minute < end) {
    endDay = day;
  } else {
    return null;
  }
  return wallToInstant(zone, endDay * DAY_MS + end * MINUTE_MS).ms;
}

/** Why a text at `at` would break a rate limit, or null when it may go. */
export function rateLimitedBy(
  prior: readonly PriorText[],
  text: { conversationId: string; at: number; urgent: boolean },
  limits: AlertLimits,
): 'conversation_window' | 'hourly_cap' | null {
  const sameConversation = prior.some(
    (p) =>
      p.conversationId === text.conversationId &&
      Math.abs(p.at - text.at) < limits.conversationWindowMs &&
      (p.urgent || !text.urgent),
  );
  if (sameConversation) return 'conversation_window';
  const lastHour = prior.filter((p) => p.at > text.at - HOUR_MS && p.at <= text.at).length;
  return lastHour >= limits.hourlyCap ? 'hourly_cap' : null;
}

export function planAlertText(input: {
  now: number;
  zone: IANAZone;
  quiet: QuietHours | null;
  urgent: boolean;
  /** A reminder (round > 0) rather than the first text of the alert. */
  reminder: boolean;
  conversationId: string;
  prior: readonly PriorText[];
  limits: AlertLimits;
}): AlertTextPlan {
  const quietEnd = input.urgent ? null : quietHoursEnd(input.quiet, input.zone, input.now);
  if (quietEnd !== null && input.reminder) return { kind: 'skip', reason: 'quiet_hours' };
  const at = quietEnd ?? input.now;
  const limited = rateLimitedBy(
    input.prior,
    { conversationId: input.conversationId, at, urgent: input.urgent },
    input.limits,
  );
  if (limited) return { kind: 'skip', reason: limited };
  return { kind: 'send', at, held: quietEnd !== null };
}

/** "HH:MM" ↔ minutes of the day, for the API. */
export function parseClock(text: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

export function formatClock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** An SMS reply that acknowledges an alert: "OK", "ok.", "Okay!", "k". */
export function isAlertAcknowledgement(body: string): boolean {
  return /^\s*(ok|okay|k)\s*[.!]*\s*$/i.test(body);
}
