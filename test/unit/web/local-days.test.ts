import { describe, expect, it } from 'vitest';
import { addDays, dayTitle, todayIn, weekStart } from '../../../web/src/lib/local-days.ts';

// The calendar's days are the business's local dates: "today" depends on the zone, and day
// arithmetic never slips across a clock change.

describe('local days', () => {
  it("takes today in the business's zone, not the browser's", () => {
    const instant = new Date('2026-12-04T06:30:00Z'); // 22:30 on Dec 3 in Los Angeles
    expect(todayIn('America/Los_Angeles', instant)).toBe('2026-12-03');
    expect(todayIn('Europe/Berlin', instant)).toBe('2026-12-04');
  });

  it('adds days across month ends and daylight-saving changes', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-07', 1)).toBe('2026-03-08'); // the US spring-forward day
    expect(addDays('2026-11-01', -1)).toBe('2026-10-31');
  });

  it('starts weeks on Monday', () => {
    expect(weekStart('2026-12-03')).toBe('2026-11-30'); // a Thursday
    expect(weekStart('2026-12-06')).toBe('2026-11-30'); // a Sunday
    expect(weekStart('2026-11-30')).toBe('2026-11-30');
    expect(dayTitle('2026-12-03')).toBe('Thursday, Dec 3');
  });
});
