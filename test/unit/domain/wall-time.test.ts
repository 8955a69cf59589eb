import { describe, expect, it } from 'vitest';
import { localDayOf, wallToInstant, zoneOf } from '../../../src/domain/wall-time.ts';

const la = zoneOf('America/Los_Angeles');
if (la === null) throw new Error('zone data missing');
const wall = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
const iso = (ms: number) => new Date(ms).toISOString();

describe('wallToInstant', () => {
  it('maps an ordinary wall time with the day offset', () => {
    expect(wallToInstant(la, wall(2026, 3, 10, 10))).toEqual({ ms: Date.UTC(2026, 2, 10, 17), exists: true });
  });

  it('marks a spring-forward gap time as nonexistent and returns the transition instant', () => {
    const r = wallToInstant(la, wall(2026, 3, 8, 2, 30));
    expect(r.exists).toBe(false);
    expect(iso(r.ms)).toBe('2026-03-08T10:00:00.000Z'); // 03:00 PDT
  });

  it('takes the first occurrence of a repeated fall-back time', () => {
    const r = wallToInstant(la, wall(2026, 11, 1, 1, 30));
    expect(r.exists).toBe(true);
    expect(iso(r.ms)).toBe('2026-11-01T08:30:00.000Z'); // 01:30 PDT, not PST
  });

  it('handles a zone that falls back at midnight (Asia/Beirut)', () => {
    const beirut = zoneOf('Asia/Beirut');
    if (beirut === null) throw new Error('zone data missing');
    // Beirut sets clocks back from 00:00 to 23:00 on the last Sunday of October.
    const r = wallToInstant(beirut, wall(2026, 10, 24, 23, 30));
    expect(r.exists).toBe(true);
    expect(iso(r.ms)).toBe('2026-10-24T20:30:00.000Z'); // first occurrence, +03:00
  });
});

describe('zoneOf / localDayOf', () => {
  it('refuses unknown zones', () => {
    expect(zoneOf('Mars/Olympus')).toBeNull();
    expect(zoneOf('')).toBeNull();
  });

  it('gives the local calendar day', () => {
    expect(localDayOf(la, Date.UTC(2026, 2, 11, 1))).toBe(Date.UTC(2026, 2, 10) / 86_400_000);
  });
});
