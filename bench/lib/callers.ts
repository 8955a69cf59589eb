import { randomInt } from 'node:crypto';
import { parseE164 } from '../../src/domain/phone.ts';

// Caller numbers: valid US numbers (checked with the app's own parser), distinct within a run, and
// starting at a random place so a second run on the same DATABASE_URL does not meet the first one's
// conversations. Each scenario draws from its own area code.

export function callerPool(areaCode: string): (index: number) => string {
  const offset = randomInt(0, 2_000_000);
  let cursor = 0;
  const issued: string[] = [];
  return (index: number) => {
    while (issued.length <= index) {
      const n = offset + cursor++;
      // Exchange 200..999, line 0000..9999; numbers the parser refuses (N11, 555…) are skipped.
      const exchange = 200 + (Math.floor(n / 10_000) % 800);
      const line = String(n % 10_000).padStart(4, '0');
      const candidate = `+1${areaCode}${exchange}${line}`;
      if (parseE164(candidate) === candidate) issued.push(candidate);
    }
    return issued[index] as string;
  };
}
