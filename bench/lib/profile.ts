import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

// BENCH_PROFILE=1: a V8 CPU profile of one phase of this process (the system runs in it), written
// as `<results file stem>.<phase>.cpuprofile` beside the results file. Open it in Chrome DevTools
// (Performance → Load profile) or any .cpuprofile viewer. The same sampler `node --cpu-prof` uses,
// limited to the phase instead of the whole run.

export const PROFILING = process.env.BENCH_PROFILE === '1';

let session: Session | null = null;

async function profiler(): Promise<Session> {
  if (session) return session;
  const opened = new Session();
  opened.connect();
  await opened.post('Profiler.enable');
  // 200 µs between samples: fine enough for ~1 ms statements, cheap enough not to move the figures much.
  await opened.post('Profiler.setSamplingInterval', { interval: 200 });
  session = opened;
  return opened;
}

/** Runs `fn` under the CPU profiler when BENCH_PROFILE=1; returns the profile to write later. */
export async function profiled<T>(fn: () => Promise<T>): Promise<{ value: T; profile: object | null }> {
  if (!PROFILING) return { value: await fn(), profile: null };
  const s = await profiler();
  await s.post('Profiler.start');
  try {
    const value = await fn();
    const { profile } = await s.post('Profiler.stop');
    return { value, profile };
  } catch (err) {
    await s.post('Profiler.stop').catch(() => undefined);
    throw err;
  }
}

export async function writeProfile(path: string, profile: object): Promise<void> {
  await writeFile(path, JSON.stringify(profile));
}
