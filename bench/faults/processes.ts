import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from '../../src/persistence/db.ts';
import { setPolicyValue } from '../../src/persistence/repositories/policy-values.ts';
import { findTenantBySlug } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import {
  callParams,
  dialStatusParams,
  type RunContext,
  sleep,
  twilioPoster,
  twilioSid,
  waitUntil,
} from './common.ts';

// The system as separate child processes (`tsx src/main.ts` with NMC_ROLE api / worker), and the
// load the multi-process scenarios fire at it.

const children = new Set<ChildProcess>();

/** SIGKILL to every child process group this scenario started and that is still running. */
export function stopChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export type Spawned = { child: ChildProcess; output(): string; exited: Promise<void>; file: string };

export function spawnMain(ctx: RunContext, name: string, env: Record<string, string>): Spawned {
  const file = join(ctx.logDir, `${name}.log`);
  ctx.logFiles.push(file);
  const sink = createWriteStream(file, { flags: 'a' });
  // Its own process group: tsx runs node as a child, and kill -9 must reach the real worker.
  const child = spawn('node_modules/.bin/tsx', ['src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let output = '';
  const onData = (chunk: Buffer) => {
    sink.write(chunk);
    if (output.length < 200_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      sink.end();
      resolve();
    }),
  );
  return { child, output: () => output, exited, file };
}

export async function stopGracefully(spawned: Spawned): Promise<void> {
  const { child } = spawned;
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([spawned.exited.then(() => true), sleep(12_000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await Promise.race([spawned.exited, sleep(2_000)]);
  }
}

/** Starts an API process (NMC_ROLE=api unless env says all; with the demo tenant), waits for /healthz, and lets every ring time count as missed. */
export async function startApiProcess(
  ctx: RunContext,
  name: string,
  env: Record<string, string>,
  apiUrl: string,
  db: Pool,
): Promise<Spawned> {
  const api = spawnMain(ctx, name, { NMC_ROLE: 'api', ...env, NMC_DEMO: 'on' });
  const ready = await waitUntil(
    async () => {
      try {
        return (await fetch(`${apiUrl}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
    90_000,
    200,
  );
  if (!ready) {
    await stopGracefully(api);
    throw new Error(`the api process did not start: ${api.output().slice(-300)}`);
  }
  const demo = await findTenantBySlug(db, DEMO.slug);
  if (!demo) throw new Error('demo tenant missing');
  await setPolicyValue(db, demo.id, 'calls.min_ring_seconds', 0);
  return api;
}

/**
 * One missed call per caller to the demo number (voice webhook, then a no-answer dial-status),
 * `concurrency` at a time. `fired()` tells how many have started; `done` gives every HTTP status.
 */
export function fireMissedCalls(
  apiUrl: string,
  callers: readonly string[],
  concurrency: number,
  /** The URL the app validates signatures against (PUBLIC_BASE_URL), when not apiUrl. */
  publicBaseUrl: string = apiUrl,
): { fired(): number; done: Promise<number[]> } {
  const post = twilioPoster({ appBaseUrl: apiUrl, publicBaseUrl, authToken: SANDBOX_ACCOUNT.authToken });
  const sid = SANDBOX_ACCOUNT.accountSid;
  const statuses: number[] = [];
  let next = 0;
  const done = Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= callers.length) return;
        const from = callers[i] as string;
        const callSid = twilioSid('CA');
        const call = await post(
          '/webhooks/twilio/voice',
          callParams(sid, callSid, from, DEMO.twilio_number, 'ringing'),
        );
        const dial = await post(
          '/webhooks/twilio/voice/dial-status',
          dialStatusParams(sid, callSid, from, DEMO.twilio_number),
        );
        statuses.push(call.status, dial.status);
      }
    }),
  ).then(() => statuses);
  return { fired: () => Math.min(next, callers.length), done };
}
