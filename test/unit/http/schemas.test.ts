import { describe, expect, it } from 'vitest';
import { calendarDate, decodeKeysetCursor, encodeCursor, instant } from '../../../src/http/schemas.ts';

const ID = '5b0e3c1a-6a59-4c2e-9d3e-2f6f8d1b7a40';

describe('instant', () => {
  it('takes RFC 3339 instants in years 0001–9999 (UTC) with real offsets', () => {
    for (const ok of [
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
      '2026-03-08T09:00:00-08:00',
      '2026-03-08T09:00:00+14:00',
      '2026-03-08T09:00:00-00:00',
    ]) {
      expect(instant.safeParse(ok).success, ok).toBe(true);
    }
  });

  it('refuses year 0000, offsets that leave the range, and offsets beyond ±14:00', () => {
    for (const bad of [
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00+01:00',
      '9999-12-31T23:59:59-01:00',
      '2026-01-01T00:00:00+23:59',
      '2026-01-01T00:00:00-14:01',
      '2026-01-01 00:00:00Z',
    ]) {
      expect(instant.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe('calendarDate', () => {
  it('refuses year 0000 (Postgres has none) and keeps 0001 and 9999', () => {
    expect(calendarDate.safeParse('0000-01-01').success).toBe(false);
    expect(calendarDate.safeParse('0000-02-29').success).toBe(false);
    expect(calendarDate.safeParse('0001-01-01').success).toBe(true);
    expect(calendarDate.safeParse('9999-12-31').success).toBe(true);
  });
});

describe('decodeKeysetCursor', () => {
  it('reads our own cursors and hands the instant on in UTC', () => {
    expect(decodeKeysetCursor(encodeCursor(['2026-03-08T09:00:00-08:00', ID]))).toEqual({
      at: '2026-03-08T17:00:00.000Z',
      key: ID,
    });
  });

  it('refuses an instant Date.parse reads but Postgres does not: 400 validation_failed', () => {
    for (const at of [
      '2026-01-01 (x)',
      'Tue, 01 Jan 2026 00:00:00 GMT',
      '2026-01-01',
      '0000-01-01T00:00:00Z',
    ]) {
      expect(Number.isNaN(Date.parse(at)), at).toBe(false);
      expect(() => decodeKeysetCursor(encodeCursor([at, ID])), at).toThrow(
        expect.objectContaining({ code: 'validation_failed', status: 400 }),
      );
    }
  });
});
