import { afterEach, describe, expect, it } from 'vitest';
import { readTimeAsk } from '../../../../src/domain/understanding/time-ask.ts';

// Thursday Dec 3 2026, 09:00 in Los Angeles (17:00 UTC).
const NOW = '2026-12-03T17:00:00Z';
const LA = 'America/Los_Angeles';
const read = (text: string, now = NOW) => readTimeAsk(text, 'en', now, LA);

describe('readTimeAsk', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  it('resolves against the given now and zone, whatever the machine zone', () => {
    const answers = ['UTC', 'Asia/Tokyo', 'Pacific/Kiritimati', 'America/Los_Angeles'].map((tz) => {
      process.env.TZ = tz;
      return [read('tomorrow at 3pm'), read('saturday?'), read('next week'), read('tonight')];
    });
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]?.[0]).toMatchObject({ date: '2026-12-04', at: '15:00' });
    expect(answers[0]?.[1]).toMatchObject({ date: '2026-12-05', at: null });
    expect(answers[0]?.[2]).toMatchObject({ date: '2026-12-07', until: '2026-12-13' });
    expect(answers[0]?.[3]).toMatchObject({ date: '2026-12-03', partOfDay: 'evening' });
  });

  it('reads an hour without am/pm in business hours, and bounds as bounds', () => {
    expect(read('anytime after 2')).toMatchObject({ after: '14:00', at: null, date: null });
    expect(read('before 11 if possible')).toMatchObject({ before: '11:00' });
    expect(read('friday after 2?')).toMatchObject({ date: '2026-12-04', after: '14:00', at: null });
    expect(read('between 1 and 3 on friday')).toMatchObject({ after: '13:00', before: '15:00' });
    expect(read('tmrw at 8')).toMatchObject({ at: '08:00' });
    expect(read('830 works')).toMatchObject({ at: '08:30' });
  });

  it('keeps descriptions of durations and sizes out of the ask', () => {
    expect(read('hot water runs out after like 2 minutes')).toBeNull();
    expect(read('need move out cleaning for a 1 bedroom')).toBeNull();
    expect(read('we have a 200 amp panel')).toBeNull();
  });

  it('reads a part of the day already over as tomorrow', () => {
    expect(read('first thing in the morning please', '2026-12-03T05:10:00Z')).toMatchObject({
      date: '2026-12-03',
      partOfDay: 'morning',
    });
    expect(read('morning is best')).toMatchObject({ date: null, partOfDay: 'morning' });
  });

  it('reads Spanish', () => {
    expect(readTimeAsk('el lunes a las 10', 'es', NOW, LA)).toMatchObject({
      date: '2026-12-07',
      at: '10:00',
    });
    expect(readTimeAsk('mañana por la tarde', 'es', NOW, LA)).toMatchObject({
      date: '2026-12-04',
      partOfDay: 'afternoon',
    });
    expect(readTimeAsk('la próxima semana', 'es', NOW, LA)).toMatchObject({
      date: '2026-12-07',
      until: '2026-12-13',
    });
  });
});
