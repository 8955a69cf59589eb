// SMS segment counting (3GPP TS 23.038). Decisions that must stay true:
// - GSM-7 basic characters cost 1 septet, extension-table characters (^ { } \ [ ] ~ | € and form
//   feed) cost 2 (escape + char). One part carries 160 septets, a concatenated part 153.
// - Anything outside GSM-7 switches the whole message to UCS-2: 70 UTF-16 code units in one part,
//   67 per concatenated part. Astral characters (most emoji) are surrogate pairs = 2 units.
// - Like carriers, an escape sequence or a surrogate pair is never split across two parts, so the
//   parts are packed greedily instead of dividing the total by 153/67.
// - Only the capital Ç is in the basic table (0x09); a lowercase ç forces UCS-2.
// - An empty text is 0 segments: there is nothing to send.

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

export const GSM7_SINGLE = 160;
export const GSM7_MULTI = 153;
export const UCS2_SINGLE = 70;
export const UCS2_MULTI = 67;

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export function isGsm7(text: string): boolean {
  for (const ch of text) {
    if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
  }
  return true;
}

export function smsEncoding(text: string): SmsEncoding {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

// Cost of each character in the encoding's units, in order.
function unitCosts(text: string, encoding: SmsEncoding): number[] {
  const costs: number[] = [];
  for (const ch of text) {
    if (encoding === 'GSM-7') costs.push(EXTENSION.has(ch) ? 2 : 1);
    else costs.push(ch.length); // 1 for BMP, 2 for a surrogate pair
  }
  return costs;
}

export function smsSegments(text: string): number {
  if (text.length === 0) return 0;
  const encoding = smsEncoding(text);
  const costs = unitCosts(text, encoding);
  const total = costs.reduce((a, b) => a + b, 0);
  const single = encoding === 'GSM-7' ? GSM7_SINGLE : UCS2_SINGLE;
  if (total <= single) return 1;
  const multi = encoding === 'GSM-7' ? GSM7_MULTI : UCS2_MULTI;
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return segments;
}
