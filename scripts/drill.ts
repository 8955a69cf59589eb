import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ensurePassword, locateCluster } from '../src/persistence/embedded-postgres.ts';
import { EMBEDDED_DATABASE } from '../src/persistence/open-database.ts';
import { SANDBOX_ACCOUNT } from '../src/providers/twilio/account.ts';
import { createSimulatedPhone } from '../src/providers/twilio/sandbox/phone.ts';
import { freePort, type Started, startMain, waitForReady } from '../test/helpers/processes.ts';

// `npm run drill`: a recovery drill with a real kill and a real restore. It starts the system on a
// fresh data directory, sends traffic (missed calls and the callers' replies) keeping a log of every
// operation the server acknowledged, takes a base backup, keeps sending, kills Postgres and the app
// with SIGKILL, restores the latest point into a new data directory, starts the system on it, and
// reports RPO (acknowledged operations missing, and the time they span) and RTO (kill → /readyz 200)
// beside the objectives. Then a point-in-time restore to a moment before a destructive mistake
// (a dropped table), checked against the row count of that moment.
//
// DRILL_SECONDS (default 20) is how long traffic runs after the backup; the WAL archive timeout is
// the system's default (NMC_WAL_ARCHIVE_TIMEOUT_SECONDS, 60 s) unless set.

const run = promisify(execFile);
const OBJECTIVES = { rpoMs: 15 * 60_000, rtoMs: 2 * 3_600_000 };
const TRAFFIC_MS = Number(process.env.DRILL_SECONDS ?? 20) * 1000;
const BUSINESS = '+15005550006';
const archiveTimeout = Number(process.env.NMC_WAL_ARCHIVE_TIMEOUT_SECONDS ?? 60);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Ack = { kind: 'call' | 'sms'; sid: string; at: number };

type Running = { started: Started; dataDir: string; env: Record<string, string>; apiUrl: string };

async function start(dataDir: string): Promise<Running> {
  const port = await freePort();
  const env = {
    NMC_DATA_DIR: dataDir,
    PORT: String(port),
    EMBEDDED_PG_PORT: String(await freePort()),
    ...(process.env.NMC_WAL_ARCHIVE_TIMEOUT_SECONDS
      ? { NMC_WAL_ARCHIVE_TIMEOUT_SECONDS: process.env.NMC_WAL_ARCHIVE_TIMEOUT_SECONDS }
      : {}),
  };
  const started = startMain(env);
  const apiUrl = `http://127.0.0.1:${port}`;
  await waitForReady(`${apiUrl}/readyz`, 120_000, started.exited);
  return { started, dataDir, env, apiUrl };
}

async function nmc(system: Pick<Running, 'env'>, args: string[]): Promise<string> {
  const { stdout } = await run('node', ['src/cli.ts', ...args], {
    env: { ...process.env, ...system.env },
    maxBuffer: 1 << 24,
  });
  return stdout;
}

async function databaseUrl(dataDir: string, env: Record<string, string>): Promise<string> {
  const cluster = await locateCluster(join(dataDir, 'pg'));
  const password = await ensurePassword(cluster.credentialsFile);
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${env.EMBEDDED_PG_PORT}/${EMBEDDED_DATABASE}`;
}

/** Missed calls, each followed by the caller's reply, until `until`; every 200 is logged. */
async function traffic(
  system: Running,
  acks: Ack[],
  until: number,
  callers: { next: number },
): Promise<void> {
  const phone = createSimulatedPhone({
    appBaseUrl: system.apiUrl,
    authToken: SANDBOX_ACCOUNT.authToken,
    accountSid: SANDBOX_ACCOUNT.accountSid,
  });
  while (Date.now() < until) {
    const from = `+1310555${String(1000 + (callers.next++ % 9000)).padStart(4, '0')}`;
    const missed = await phone.missedCall({ from, to: BUSINESS }).catch(() => null);
    if (missed?.dialStatus.status === 200) acks.push({ kind: 'call', sid: missed.callSid, at: Date.now() });
    const reply = await phone
      .sms({ from, to: BUSINESS, body: 'Do you have time tomorrow morning?' })
      .catch(() => null);
    if (reply?.response.status === 200) acks.push({ kind: 'sms', sid: reply.messageSid, at: Date.now() });
    await sleep(150);
  }
}

async function missingOf(url: string, acks: Ack[]): Promise<Ack[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const calls = new Set(
      (await client.query<{ sid: string }>('SELECT call_sid AS sid FROM conv_calls')).rows.map((r) => r.sid),
    );
    const texts = new Set(
      (
        await client.query<{ sid: string }>(
          "SELECT provider_sid AS sid FROM conv_messages WHERE direction = 'in' AND provider_sid IS NOT NULL",
        )
      ).rows.map((r) => r.sid),
    );
    return acks.filter((a) => !(a.kind === 'call' ? calls : texts).has(a.sid));
  } finally {
    await client.end();
  }
}

function killHard(system: Running, clusterDir: string): void {
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(postmaster, 'SIGKILL');
  system.started.child.kill('SIGKILL');
}

async function stop(system: Running): Promise<void> {
  system.started.child.kill('SIGTERM');
  await system.started.exited;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'nmc-drill-'));
  const dirs = { source: join(root, 'source'), latest: join(root, 'restored'), pitr: join(root, 'pitr') };
  const acks: Ack[] = [];
  const callers = { next: 0 };
  try {
    console.log(`drill in ${root}`);
    const source = await start(dirs.source);
    await traffic(source, acks, Date.now() + 5_000, callers);
    console.log(`backup after ${acks.length} acknowledged operations`);
    await nmc(source, ['backup']);
    await traffic(source, acks, Date.now() + TRAFFIC_MS, callers);
    const cluster = await locateCluster(join(dirs.source, 'pg'));
    const killedAt = Date.now();
    killHard(source, cluster.dataDir);
    await source.started.exited;
    console.log(`killed Postgres and the app after ${acks.length} acknowledged operations`);

    await nmc(source, ['restore', '--into', dirs.latest]);
    const restored = await start(dirs.latest);
    const rtoMs = Date.now() - killedAt;
    const missing = await missingOf(await databaseUrl(dirs.latest, restored.env), acks);
    const lostSpanMs = missing.length > 0 ? killedAt - Math.min(...missing.map((m) => m.at)) : 0;

    // A destructive mistake on the restored system, and a point-in-time restore to just before it.
    await nmc(restored, ['backup']);
    await traffic(restored, [], Date.now() + 3_000, callers);
    const url = await databaseUrl(dirs.latest, restored.env);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const before =
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM conv_calls')).rows[0]?.n ?? 0;
    await sleep(1_000);
    const momentBefore = new Date().toISOString();
    await sleep(1_000);
    await db.query('DROP TABLE conv_calls');
    await db.query('SELECT pg_switch_wal()');
    await db.end();
    await sleep(2_000); // the archiver copies the closed segment
    await stop(restored);
    await nmc(restored, ['restore', '--into', dirs.pitr, '--to', momentBefore]);
    const pitr = await start(dirs.pitr);
    const pitrDb = new pg.Client({ connectionString: await databaseUrl(dirs.pitr, pitr.env) });
    await pitrDb.connect();
    const after = (await pitrDb.query<{ n: number }>('SELECT count(*)::int AS n FROM conv_calls')).rows[0]?.n;
    await pitrDb.end();
    await stop(pitr);

    const ok = (value: number, objective: number) => (value <= objective ? 'met' : 'MISSED');
    console.log('');
    console.log('| figure | value | objective | |');
    console.log('|---|---|---|---|');
    console.log(`| acknowledged operations (missed calls, replies) | ${acks.length} | | |`);
    console.log(
      `| WAL archive timeout (the most a restore from the archive can lose) | ${archiveTimeout} s | | |`,
    );
    console.log(
      `| RPO: acknowledged operations missing after restore | ${missing.length} (spanning ${seconds(lostSpanMs)} before the kill) | ≤ 15 min of data | ${ok(lostSpanMs, OBJECTIVES.rpoMs)} |`,
    );
    console.log(
      `| RTO: kill → /readyz 200 on the restored copy | ${seconds(rtoMs)} | ≤ 2 h | ${ok(rtoMs, OBJECTIVES.rtoMs)} |`,
    );
    console.log(
      `| point-in-time restore before DROP TABLE conv_calls | ${after} rows (${before} at that moment) | equal | ${after === before ? 'met' : 'MISSED'} |`,
    );
    if (after !== before || lostSpanMs > OBJECTIVES.rpoMs || rtoMs > OBJECTIVES.rtoMs) process.exitCode = 1;
  } finally {
    for (const dir of Object.values(dirs)) {
      const located = await locateCluster(join(dir, 'pg')).catch(() => null);
      if (located) rmSync(dirname(located.dataDir), { recursive: true, force: true });
    }
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
