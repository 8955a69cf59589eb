import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

// How the app writes numbers, times and money: phone numbers through the same library as the
// server, times in the business's zone, money from { amount_cents, currency } through Intl.

export function formatPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return e164;
  return parsed.country === 'US' || parsed.country === 'CA'
    ? parsed.formatNational()
    : parsed.formatInternational();
}

export function formatTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(new Date(iso));
}

export function formatClock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', minute: '2-digit' }).format(
    new Date(iso),
  );
}

export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return `${days} d ago`;
}

export function formatMoney(price: { amount_cents: number; currency: string }): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: price.currency }).format(
    price.amount_cents / 100,
  );
}
