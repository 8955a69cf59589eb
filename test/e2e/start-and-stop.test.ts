import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  postgresProcessesFor,
  processesInGroup,
  type Started,
  startMain,
  waitForReady,
} from '../helpers/processes.ts';

// `npm start` on the embedded defaults, as a new user runs it: first start (initdb), second start
// (existing cluster), SIGTERM, a busy port and a bad variable.

const dataDir = mkdtempSync(join(tmpdir(), 'nmc-start-'));
chmodSync(dataDir, 0o755);
const privateDir = mkdtempSync(join(tmpdir(), 'nmc-private-')); // mode 700, like a home folder
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(privateDir, { recursive: true, force: true });
});

function isAlive(pid: string): boolean {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('starts on an empty data directory, serves /readyz, and stops on SIGTERM leaving no postgres', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const env = { NMC_DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort) };

    const first = startMain(env);
    const firstReadyMs = await waitForReady(`http://127.0.0.1:${port}/readyz`, 30_000, first.exited);
    expect(first.output()).toContain(`http://127.0.0.1:${port}/docs`);
    const pgPids = postgresProcessesFor(join(dataDir, 'pg'));
    expect(pgPids.length).toBeGreaterThan(0);

    // A second instance on the same Postgres port gets one clear line, not a stack trace.
    const clash = startMain({ ...env, PORT: String(await freePort()) });
    expect(await clash.exited).toBe(1);
    expect(clash.output()).toMatch(new RegExp(`port ${pgPort} is already in use`));

    let stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const stopMs = Date.now() - stoppedAt;
    expect(stopMs).toBeLessThan(10_000);
    expect(postgresProcessesFor(join(dataDir, 'pg'))).toEqual([]);

    const second = startMain(env);
    const secondReadyMs = await waitForReady(`http://127.0.0.1:${port}/readyz`, 15_000, second.exited);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    stoppedAt = Date.now();
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(postgresProcessesFor(join(dataDir, 'pg'))).toEqual([]);
    console.info(
      `start timings: first ready ${firstReadyMs} ms, second ready ${secondReadyMs} ms, stop ${stopMs} ms`,
    );
  }, 90_000);

  it.runIf(userInfo().uid === 0)(
    'as root, keeps the cluster where the postgres user can reach it when the data folder is private',
    async () => {
      const port = await freePort();
      const started = startMain({
        NMC_DATA_DIR: privateDir,
        PORT: String(port),
        EMBEDDED_PG_PORT: String(await freePort()),
      });
      await waitForReady(`http://127.0.0.1:${port}/readyz`, 30_000, started.exited);
      const relocated = /the cluster lives in (\/var\/lib\/nevermisscall\/[0-9a-f]{12})\/pgdata/.exec(
        started.output(),
      );
      expect(relocated).not.toBeNull();
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      rmSync(relocated?.[1] ?? '/nonexistent', { recursive: true, force: true });
    },
    60_000,
  );

  // A terminal's Ctrl-C signals the whole foreground process group (npm, node and, unless it has a
  // group of its own, Postgres) at once; a process manager signals only the process it started
  // (npm). Either way the whole tree ends within 10 s, nothing is left running, and the output has
  // no error line and no stack trace.
  it.each([
    ['Ctrl-C (SIGINT to the process group)', (s: Started) => process.kill(-(s.child.pid ?? 0), 'SIGINT')],
    ['SIGTERM to the npm start process only', (s: Started) => s.child.kill('SIGTERM')],
  ])(
    'stops the whole `npm start` tree on %s',
    async (_name, signal) => {
      const port = await freePort();
      const env = {
        NMC_DATA_DIR: dataDir,
        PORT: String(port),
        EMBEDDED_PG_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      };
      const started = startMain(env, { npm: true });
      await waitForReady(`http://127.0.0.1:${port}/readyz`, 30_000, started.exited);
      // Some traffic first, so the workers and listeners hold connections when the signal comes.
      for (let i = 0; i < 5; i++) await fetch(`http://127.0.0.1:${port}/readyz`);
      // npm, the shell it may start and node share npm's process group; Postgres has its own.
      const tree = [
        ...processesInGroup(started.child.pid ?? 0),
        ...postgresProcessesFor(join(dataDir, 'pg')),
      ];
      expect(tree.length).toBeGreaterThanOrEqual(3);
      const signalledAt = Date.now();
      signal(started);
      await started.exited;
      while (tree.some(isAlive) && Date.now() - signalledAt < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(tree.filter(isAlive)).toEqual([]);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      const output = started.output();
      expect(output).toContain('shutting down');
      expect(output).not.toMatch(/"level":(50|60)/);
      expect(output).not.toMatch(/\n\s+at |\\n\s+at /);
      expect(output).not.toContain('Unhandled');
    },
    60_000,
  );

  it('stops with one line naming a bad variable', async () => {
    const bad = startMain({ PORT: 'eighty', NMC_DATA_DIR: dataDir });
    expect(await bad.exited).toBe(1);
    expect(bad.output().trim()).toBe(
      'invalid configuration: PORT: Invalid input: expected number, received NaN',
    );
  });
});
