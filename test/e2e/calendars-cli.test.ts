import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Started, startMain, waitForReady } from '../helpers/processes.ts';

// `nmc calendars status|backfill|reconcile` against `npm start`'s own Google sandbox: the demo
// resource is connected through the API as an owner would (consent URL → sandbox consent →
// callback), then the CLI reports it, refills its mirror with a progress bar, and finds no drift.

const dataDir = mkdtempSync(join(tmpdir(), 'nmc-calendars-cli-'));
let server: Started;
let api: string;

type Run = { code: number | null; stdout: string; stderr: string };

function nmc(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('node', ['src/cli.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NMC_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  server = startMain({
    NMC_DATA_DIR: dataDir,
    PORT: String(port),
    EMBEDDED_PG_PORT: String(await freePort()),
  });
  await waitForReady(`${api}/readyz`, 60_000, server.exited);
}, 90_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('nmc calendars', () => {
  it('status says when nothing is connected', async () => {
    const run = await nmc(['calendars', 'status']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no calendar connected');
  }, 30_000);

  it('status, backfill and reconcile of a connected calendar', async () => {
    const token = (await nmc(['token'])).stdout.trim();
    const auth = { authorization: `Bearer ${token}` };
    const resources = (await (await fetch(`${api}/api/v1/resources`, { headers: auth })).json()) as {
      items: Array<{ id: string }>;
    };
    const resource = resources.items[0]?.id ?? '';
    const started = (await (
      await fetch(`${api}/api/v1/resources/${resource}/calendar/connect?redirect=false`, { headers: auth })
    ).json()) as { authorization_url: string };
    const consent = await fetch(started.authorization_url, { redirect: 'manual' });
    const callback = await fetch(consent.headers.get('location') ?? '');
    expect(callback.status).toBe(200);

    let status: Run = { code: null, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && !/push|poll/.test(status.stdout.split('\n')[1] ?? ''); i += 1) {
      status = await nmc(['calendars', 'status']);
      if (!status.stdout.includes('synced never')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`resource ${resource}  google owner@sandbox-calendar.example  active`);
    expect(status.stdout).toMatch(/blocks time, receives bookings\)\s+(push|poll)\s+synced \d+ s ago/);

    const backfill = await nmc(['calendars', 'backfill', '--days', '30']);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stderr).toContain('[####################] 1/1');
    expect(backfill.stdout).toMatch(
      new RegExp(`^${resource} [0-9a-f-]{36}: \\d+ events listed, \\d+ busy, 1 pages$`, 'm'),
    );

    const reconcile = await nmc(['calendars', 'reconcile', '--resource', resource]);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toContain('missing 0, extra 0, moved 0');

    const bad = await nmc(['calendars', 'backfill', '--days', '0']);
    expect(bad.code).not.toBe(0);
  }, 60_000);
});
