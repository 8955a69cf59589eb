import type { MemorySample } from '../lib/memory.ts';
import { fmt, type Row } from '../lib/report.ts';

// Memory of the running system. The system runs inside the bench process, so "idle" is compared
// with the same process just before startSystem (the harness, pg, the engine phase's leftovers),
// and the load phases with idle. Samples follow a full GC when available, so a rising heap after
// GC across phases would be a leak rather than garbage waiting to be collected.

export function memoryRows(samples: readonly MemorySample[]): Row[] {
  const find = (label: string) => samples.find((s) => s.label === label);
  const before = find('before start');
  const idle = find('idle after start');
  const loaded = [...samples].reverse().find((s) => s.label.startsWith('after'));
  const rows: Row[] = [];
  const mb = (s: MemorySample) => `${fmt(s.rssMb)} MB RSS (heap ${fmt(s.heapUsedMb)} MB)`;
  if (idle) {
    rows.push({
      scenario: 'Memory',
      measure: 'system idle after start',
      value: mb(idle),
      baseline: before ? `process before start: ${fmt(before.rssMb)} MB` : 'n/a',
      ratio: before ? `+${fmt(idle.rssMb - before.rssMb)} MB` : 'n/a',
      goal: '',
      result: '',
    });
  }
  if (idle && loaded) {
    rows.push({
      scenario: 'Memory',
      measure: `after the load (${loaded.label})`,
      value: mb(loaded),
      baseline: `idle: ${fmt(idle.rssMb)} MB`,
      ratio: `${fmt(loaded.rssMb / idle.rssMb, 2)}×`,
      goal: '',
      result: '',
    });
  }
  if (samples.length > 0) {
    rows.push({
      scenario: 'Memory',
      measure: 'trend over phases, RSS MB (heap MB after GC)',
      value: samples.map((s) => `${s.label}: ${fmt(s.rssMb)} (${fmt(s.heapUsedMb)})`).join(' → '),
      baseline: '',
      ratio: '',
      goal: '',
      result: '',
    });
  }
  return rows;
}
