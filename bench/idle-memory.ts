import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/processes.ts';

// `node bench/idle-memory.ts`: the app process as `npm start` runs it (node src/main.ts, embedded
// Postgres in a process of its own), idle, beside an empty Node process started the same way in the
// same run. RSS is read from /proc, as the OS sees it; the soak samples it every few seconds.
//
// BENCH_SOAK_SECONDS (default 30) sets how long the idle process is watched after start.

const SOAK_MS = Math.max(0, Number(process.env.BENCH_SOAK_SECONDS ?? 30)) * 1000;
const SAMPLE_MS = 5_000;
const START_TIMEOUT_MS = 90_000;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function emptyNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  await sleep(1_000);
  const rss = rssMb(child.pid ?? 0);
  child.kill('SIGTERM');
  return rss;
}

async function appIdle(): Promise<{ startMs: number; samples: number[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nmc-idle-'));
  // The app's own embedded Postgres, whatever this shell points at.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = {
    ...inherited,
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    NMC_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const started = Date.now();
  // The same node flags as `npm start` (package.json: "exec node <flags> src/main.ts").
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } };
  const args = pkg.scripts.start.replace(/^exec node\s+/, '').split(/\s+/);
  const app = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  app.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  try {
    while (!out.includes('NeverMissCall is running')) {
      if (app.exitCode !== null) throw new Error(`the app exited (${app.exitCode}) before it was running`);
      if (Date.now() - started > START_TIMEOUT_MS) throw new Error('the app did not start in time');
      await sleep(100);
    }
    const startMs = Date.now() - started;
    // Let start-up garbage and the first timers settle before the idle figure.
    await sleep(3_000);
    const samples = [rssMb(app.pid ?? 0)];
    for (let waited = 0; waited < SOAK_MS; waited += SAMPLE_MS) {
      await sleep(SAMPLE_MS);
      samples.push(rssMb(app.pid ?? 0));
    }
    return { startMs, samples };
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => (app.exitCode !== null ? resolve(null) : app.once('exit', resolve)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const empty = await emptyNodeRss();
const { startMs, samples } = await appIdle();
const fmt = (n: number) => n.toFixed(1);
const idle = samples[0] ?? Number.NaN;
const last = samples.at(-1) ?? Number.NaN;
process.stdout.write(
  [
    '| Measure | Value | Baseline | Ratio | Goal | Result |',
    '| --- | --- | --- | --- | --- | --- |',
    `| app idle after start (RSS) | ${fmt(idle)} MB | empty Node: ${fmt(empty)} MB | +${fmt(idle - empty)} MB | ≤ 150 MB | ${idle <= 150 ? 'PASS' : 'FAIL'} |`,
    `| idle soak ${SOAK_MS / 1000} s (RSS MB) | ${samples.map(fmt).join(' → ')} | idle: ${fmt(idle)} MB | ${fmt(last - idle)} MB | no growth | |`,
    `| start to "running" | ${startMs} ms | | | | |`,
    '',
  ].join('\n'),
);
