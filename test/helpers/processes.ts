export { freePort } from '../../src/persistence/embedded-postgres.ts';

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

export type Started = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/**
 * Runs `npm start`'s entry point (src/main.ts on Node's own type stripping) with the given
 * environment; `{ npm: true }` runs `npm start` itself, in a process group of its own, as a terminal
 * runs a foreground command (so the test can signal the group as Ctrl-C does).
 */
export function startMain(env: Record<string, string>, options: { npm?: boolean } = {}): Started {
  const [command, args] = options.npm ? ['npm', ['start']] : ['node', ['src/main.ts']];
  const child = spawn(command as string, args as string[], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.npm === true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitForReady(
  url: string,
  timeoutMs: number,
  exited?: Promise<unknown>,
): Promise<number> {
  const started = Date.now();
  let done = false;
  void exited?.then(() => {
    done = true;
  });
  while (Date.now() - started < timeoutMs && !done) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/** PIDs of the processes in a process group. */
export function processesInGroup(groupId: number): string[] {
  try {
    return execFileSync('pgrep', ['-g', String(groupId)])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** PIDs of postgres server processes whose command line names the data directory. */
export function postgresProcessesFor(dataDir: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `postgres -D ${dataDir}`])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}
