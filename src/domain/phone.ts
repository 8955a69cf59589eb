import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

// Callers are identified by E.164 numbers. Decisions that must stay true:
// - `/max` metadata, so validity is checked against real numbering plans (not only length).
// - Inputs longer than MAX_PHONE_INPUT_LENGTH (after trimming) are refused before parsing: webhook fields are
//   attacker-controlled and a number never needs more room than that, even when formatted.
// - A number with an extension ("… ext. 5") is refused: E.164 cannot carry it, and silently
//   dropping it would text a switchboard instead of the person.
// - Non-ASCII digits (full-width, Arabic-Indic) are accepted as libphonenumber reads them; the
//   output is always ASCII `+` and digits.
// - An unknown default country yields null instead of throwing, so the argument may come from data.

export const MAX_PHONE_INPUT_LENGTH = 64;

const E164_SHAPE = /^\+[1-9]\d{1,14}$/;

export function parseE164(input: string, defaultCountry = 'US'): string | null {
  if (typeof input !== 'string') return null;
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_PHONE_INPUT_LENGTH) return null;
  if (!isSupportedCountry(defaultCountry)) return null;
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode);
  if (parsed === undefined || parsed.ext !== undefined || !parsed.isValid()) return null;
  const e164 = parsed.number;
  return E164_SHAPE.test(e164) ? e164 : null;
}

// True only for a valid number already in canonical E.164 form (what we store and compare).
export function isE164(s: unknown): s is string {
  return typeof s === 'string' && E164_SHAPE.test(s) && parseE164(s) === s;
}

const MASK = '•••';

// For logs and UI: keeps the country calling code and the last 4 digits (fewer when the national
// number is short, so that at least half of it stays hidden): `+13105551212` → `+1•••1212`.
// The mask has a fixed width so it does not reveal the number's length. Anything that is not a
// valid E.164 number is masked entirely: this function must never echo its input.
export function maskPhone(e164: string): string {
  if (!isE164(e164)) return MASK;
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) return MASK;
  const national = parsed.nationalNumber;
  const keep = Math.min(4, Math.floor(national.length / 2));
  return `+${parsed.countryCallingCode}${MASK}${keep > 0 ? national.slice(-keep) : ''}`;
}
