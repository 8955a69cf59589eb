import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Deadline } from './lib/deadline.ts';
import { type LoadResult, percentile, sleep } from './lib/load.ts';
import { type MemorySample, sampleMemory } from './lib/memory.ts';
import { type BenchPostgres, startBenchPostgres } from './lib/postgres.ts';
import { PROFILING, profiled, writeProfile } from './lib/profile.ts';
import { fmt, ms, type Row, ratio, renderMarkdown, verdict } from './lib/report.ts';
import { installSqlCounter } from './lib/sql-count.ts';
import { type BenchSystem, startBenchSystem } from './lib/system.ts';
import { insertBaseline, insertBurst, prepareTpcb, setupInsertTable } from './scenarios/baseline.ts';
import { hotConversation, manyConversations, openEngine } from './scenarios/engine.ts';
import { type FirstSmsResult, firstSms, summarize } from './scenarios/first-sms.ts';
import { type AvailabilityResult, type HoldRaceResult, runHolds } from './scenarios/holds.ts';
import { inboundSms } from './scenarios/inbound-sms.ts';
import { memoryRows } from './scenarios/memory.ts';
import { runScale, type ScaleResult, scaleRows, scaleTarget } from './scenarios/scale.ts';
import { type SqlPerSmsResult, sqlPerInboundSms } from './scenarios/sql-per-sms.ts';

// `npm run bench`: starts its own Postgres (or uses DATABASE_URL), measures the baselines, the
// engine, the whole system (first SMS, inbound SMS, memory) and scheduling, and prints one markdown
// table — also written to bench/results/<timestamp>.md. Every figure stands beside a baseline
// measured in this same run. It stops on its own: phases shrink or are skipped as the deadline
// nears, and a hard stop at 9.5 minutes writes what it has, cleans up and exits.
//
// BENCH_PHASE_SECONDS (default 5) sets the length of each timed phase, for a quick check.
// BENCH_SCALE=0 skips the scale phase (the last one); BENCH_SCALE_CONVERSATIONS (default 1,000,000)
// sizes it. BENCH_PROFILE=1 writes CPU profiles of the first-SMS and inbound phases beside the results.

const PHASE_MS = Math.max(1, Number(process.env.BENCH_PHASE_SECONDS ?? 5)) * 1000;
const HARD_STOP_MS = 9.5 * 60_000;
const deadline = Deadline.in(8 * 60_000);
const startedAt = new Date();
const CONCURRENCIES = [8, 32] as const;
const ENGINE_CONVERSATIONS = 10_000;
const FIRST_SMS_CALLERS = 100;
const FIRST_SMS_SMALL_BURST = 20;
const SQL_PER_SMS_TEXTS = 100;
const HOLD_ATTEMPTS = 100;
const FIRST_SMS_TIMEOUT_MS = 15_000;
const SCALE = process.env.BENCH_SCALE !== '0';
const SCALE_CONVERSATIONS = Math.max(
  1_000,
  Math.floor(Number(process.env.BENCH_SCALE_CONVERSATIONS ?? 1_000_000) || 1_000_000),
);
/** The measurements at scale (two system starts, webhooks, inbox, EXPLAINs) and the report. */
const SCALE_RESERVE_MS = 50_000;

installSqlCounter();

type Tpcb = { tps: number; latencyAvgMs: number; errors: number };

const results: {
  insert: Map<number, LoadResult[]>;
  tpcb: Map<number, Tpcb>;
  tpcbVia?: string;
  hot?: LoadResult;
  many?: LoadResult;
  firstSms?: FirstSmsResult;
  firstSms20?: FirstSmsResult;
  sqlPerSms?: SqlPerSmsResult;
  inbound: Map<number, LoadResult>;
  drains: string[];
  race?: HoldRaceResult;
  raceBaselineMs?: number;
  availability?: AvailabilityResult;
  memory: MemorySample[];
  systemErrors?: number;
  systemWarnings?: number;
  scale?: ScaleResult;
  errors: Map<string, string>;
  skipped: Set<string>;
} = {
  insert: new Map(),
  tpcb: new Map(),
  inbound: new Map(),
  drains: [],
  memory: [],
  errors: new Map(),
  skipped: new Set(),
};
const notes: string[] = [];
/** CPU profiles of phases (BENCH_PROFILE=1), written beside the results file. */
const profiles = new Map<string, object>();
let postgres: BenchPostgres | undefined;
let bench: BenchSystem | undefined;

function log(message: string): void {
  const s = (deadline.elapsedMs() / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}

/** Runs one phase unless too little time is left; a failure is recorded and the run goes on. */
async function phase(name: string, needsMs: number, fn: () => Promise<void>): Promise<void> {
  if (deadline.remainingMs() < needsMs) {
    results.skipped.add(name);
    log(`skip ${name}: ${fmt(deadline.remainingMs() / 1000)} s left`);
    return;
  }
  log(name);
  try {
    await fn();
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    results.errors.set(name, message);
    log(`${name} failed: ${message}`);
    if (process.env.BENCH_DEBUG) console.error(err);
  }
}

function recordInsert(concurrency: number, result: LoadResult): void {
  const list = results.insert.get(concurrency) ?? [];
  list.push(result);
  results.insert.set(concurrency, list);
}

// ── baselines derived from every insert run of this process ──────────────────────────────────────

function insertTps(concurrency: number): number {
  const runs = results.insert.get(concurrency) ?? [];
  if (runs.length === 0) return Number.NaN;
  return runs.reduce((a, r) => a + r.perSecond, 0) / runs.length;
}

function insertLatency(concurrency: number, p: number): number {
  const all = (results.insert.get(concurrency) ?? []).flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return percentile(all, p);
}

function sqlPerOp(r: LoadResult): string {
  return Number.isFinite(r.meteredPerOp) ? `, ${fmt(r.meteredPerOp, 1)} SQL/op` : '';
}

function insertSqlPerTxn(concurrency: number): string {
  const first = results.insert.get(concurrency)?.[0];
  return first ? sqlPerOp(first) : '';
}

function insertRuns(concurrency: number): string {
  const runs = results.insert.get(concurrency) ?? [];
  return runs.map((r) => fmt(r.perSecond)).join(' / ');
}

// ── the table ─────────────────────────────────────────────────────────────────────────────────────

function missing(scenario: string, phaseName: string, measure: string): Row | null {
  const error = results.errors.get(phaseName);
  if (error) return { scenario, measure, value: error, baseline: '', ratio: '', goal: '', result: 'ERROR' };
  if (results.skipped.has(phaseName))
    return {
      scenario,
      measure,
      value: 'not run (deadline)',
      baseline: '',
      ratio: '',
      goal: '',
      result: 'SKIPPED',
    };
  return null;
}

function buildRows(): Row[] {
  const rows: Row[] = [];
  const push = (row: Row | null) => {
    if (row) rows.push(row);
  };

  // Baselines
  for (const c of CONCURRENCIES) {
    const tps = insertTps(c);
    if (Number.isNaN(tps)) {
      push(missing('Baseline', `baseline: insert @c${c}`, `insert txn/s @c${c}`));
      continue;
    }
    rows.push({
      scenario: 'Baseline',
      measure: `BEGIN; INSERT 1 row; COMMIT via pg @c${c}`,
      value: `${fmt(tps)} txn/s${insertSqlPerTxn(c)}`,
      baseline: `runs (start / end): ${insertRuns(c)}`,
      ratio: '1.00×',
      goal: '',
      result: '',
    });
    rows.push({
      scenario: 'Baseline',
      measure: `insert txn latency @c${c} P50 / P95 / P99`,
      value: `${ms(insertLatency(c, 50))} / ${ms(insertLatency(c, 95))} / ${ms(insertLatency(c, 99))}`,
      baseline: '',
      ratio: '',
      goal: '',
      result: '',
    });
  }
  for (const c of CONCURRENCIES) {
    const t = results.tpcb.get(c);
    if (!t) {
      push(missing('Baseline', 'baseline: tpcb', `tpcb @c${c}`));
      continue;
    }
    rows.push({
      scenario: 'Baseline',
      measure: `tpcb-like, scale 1 @c${c} (${results.tpcbVia ?? '?'})`,
      value: `${fmt(t.tps)} txn/s (avg ${ms(t.latencyAvgMs)}${t.errors ? `, ${t.errors} failed` : ''})`,
      baseline: `insert @c${c}: ${fmt(insertTps(c))} txn/s`,
      ratio: ratio(t.tps, insertTps(c)),
      goal: '',
      result: '',
    });
  }

  // Engine
  const base8 = insertTps(8);
  if (results.hot) {
    const r = results.hot;
    rows.push({
      scenario: 'Engine',
      measure: '1 hot conversation: InboundSms via dispatch @c8',
      value: `${fmt(r.perSecond)} events/s (P95 ${ms(percentile(r.latenciesMs, 95))}${sqlPerOp(r)}${r.errors ? `, ${r.errors} errors` : ''})`,
      baseline: `insert @c8: ${fmt(base8)} txn/s`,
      ratio: ratio(r.perSecond, base8),
      goal: '',
      result: '',
    });
  } else push(missing('Engine', 'engine: hot conversation', '1 hot conversation @c8'));
  if (results.many) {
    const r = results.many;
    const value = r.perSecond / base8;
    rows.push({
      scenario: 'Engine',
      measure: `${fmt(ENGINE_CONVERSATIONS)} conversations: MissedCall via dispatch @c8`,
      value: `${fmt(r.perSecond)} events/s (${fmt(r.ok)} in ${fmt(r.elapsedMs / 1000, 1)} s, P95 ${ms(percentile(r.latenciesMs, 95))}${sqlPerOp(r)}${r.errors ? `, ${r.errors} errors` : ''})`,
      baseline: `insert @c8: ${fmt(base8)} txn/s`,
      ratio: ratio(r.perSecond, base8),
      goal: '≥ 0.50×',
      result: verdict(value >= 0.5 && r.errors === 0),
    });
  } else push(missing('Engine', 'engine: many conversations', `${ENGINE_CONVERSATIONS} conversations @c8`));

  // First SMS: 20 at once, then 100 at once
  const firstSmsRows = (
    f: FirstSmsResult | undefined,
    callers: number,
    phaseName: string,
    p95Goal: number,
  ) => {
    if (!f) {
      push(missing('First SMS', phaseName, `${callers} missed calls at once`));
      return;
    }
    // A caller not texted within the timeout counts as slower than everyone who was.
    const s = summarize([
      ...f.latenciesMs,
      ...Array.from({ length: callers - f.received }, () => Number.POSITIVE_INFINITY),
    ]);
    const late = (v: number) =>
      Number.isFinite(v) ? ms(v) : `> ${fmt(FIRST_SMS_TIMEOUT_MS / 1000)} s (not texted yet)`;
    const b32 = (p: number) => insertLatency(32, p);
    for (const [label, p, value] of [
      ['P50', 50, s.p50],
      ['P95', 95, s.p95],
      ['P99', 99, s.p99],
    ] as const) {
      rows.push({
        scenario: 'First SMS',
        measure: `${callers} missed calls at once: dial-status sent → sandbox receives the SMS, ${label}`,
        value: late(value),
        baseline: `insert txn ${label} @c32: ${ms(b32(p))}`,
        ratio: ratio(value, b32(p)),
        goal: label === 'P95' ? `≤ ${p95Goal} ms` : '',
        result: label === 'P95' ? verdict(value <= p95Goal && f.received === callers) : '',
      });
    }
    rows.push({
      scenario: 'First SMS',
      measure: `${callers} at once: callers texted; dial-status webhook answered`,
      value: `${f.received}/${callers} texted within ${fmt(FIRST_SMS_TIMEOUT_MS / 1000)} s${f.received > 0 ? ` (fastest ${ms(f.latenciesMs[0] ?? Number.NaN)}, slowest ${ms(f.latenciesMs[f.received - 1] ?? Number.NaN)})` : ''}; dial-status webhook P95 ${ms(percentile(f.webhookMs, 95))}${f.webhookErrors ? `; ${f.webhookErrors} webhook errors (${f.firstError})` : ''}`,
      baseline: '',
      ratio: '',
      goal: `${callers}/${callers}`,
      result: verdict(f.received === callers && f.webhookErrors === 0),
    });
  };
  firstSmsRows(results.firstSms20, FIRST_SMS_SMALL_BURST, 'system: first SMS @20', 150);
  firstSmsRows(results.firstSms, FIRST_SMS_CALLERS, 'system: first SMS', 200);

  // Inbound SMS
  for (const c of CONCURRENCIES) {
    const r = results.inbound.get(c);
    if (!r) {
      push(missing('Inbound SMS', `system: inbound SMS @c${c}`, `signed webhooks @c${c}`));
      continue;
    }
    const base = insertTps(c);
    rows.push({
      scenario: 'Inbound SMS',
      measure: `signed webhook → committed event + reply job @c${c}`,
      value: `${fmt(r.perSecond)} req/s (P50 ${ms(percentile(r.latenciesMs, 50))}, P95 ${ms(percentile(r.latenciesMs, 95))}${sqlPerOp(r)} system-wide${r.errors ? `, ${r.errors} errors: ${r.firstError}` : ''})`,
      baseline: `insert @c${c}: ${fmt(base)} txn/s`,
      ratio: ratio(r.perSecond, base),
      goal: '≥ 0.50×',
      result: verdict(r.perSecond / base >= 0.5 && r.errors === 0),
    });
  }

  if (results.sqlPerSms) {
    const r = results.sqlPerSms;
    const base = results.insert.get(8)?.[0]?.meteredPerOp ?? Number.NaN;
    rows.push({
      scenario: 'Inbound SMS',
      measure: `SQL statements per inbound SMS, system-wide until settled (${fmt(r.texts)} texts @c8)`,
      value: `${fmt(r.perSms, 1)} SQL/SMS (webhook, reply send, status callbacks, outbox deliveries; idle ${fmt(r.idlePerSecond, 1)} SQL/s subtracted; ${r.settled ? `settled ${fmt(r.settleMs)} ms after the last` : "did NOT settle: the previous phases' backlog or this one's was still draining, the figure is not comparable"})`,
      baseline: `insert txn: ${fmt(base, 0)} SQL`,
      ratio: ratio(r.perSms, base),
      goal: '≤ 15',
      result: verdict(r.settled && r.perSms <= 15),
    });
  } else push(missing('Inbound SMS', 'system: SQL per inbound SMS', 'SQL statements per inbound SMS'));

  // Holds
  if (results.race) {
    const r = results.race;
    const winner = r.winners[0];
    rows.push({
      scenario: 'Holds',
      measure: `${r.attempts} concurrent placeHold for one slot`,
      value: `${r.winners.length} winner${winner ? ` (attempt #${winner.index}, hold ${winner.holdId}, ${winner.start}–${winner.end})` : ''}, ${r.conflicts} conflicts${r.unexpected.length ? `, ${r.unexpected.length} unexpected: ${r.unexpected[0]}` : ''}; ${ms(r.ms)}`,
      baseline:
        results.raceBaselineMs !== undefined
          ? `${r.attempts} concurrent insert txns: ${ms(results.raceBaselineMs)}`
          : 'n/a',
      ratio: results.raceBaselineMs !== undefined ? ratio(r.ms, results.raceBaselineMs) : 'n/a',
      goal: `exactly 1 winner, ${r.attempts - 1} conflicts`,
      result: verdict(r.winners.length === 1 && r.conflicts === r.attempts - 1 && r.unexpected.length === 0),
    });
  } else push(missing('Holds', 'holds', `${HOLD_ATTEMPTS} concurrent placeHold for one slot`));
  if (results.availability) {
    const a = results.availability;
    const b = insertLatency(8, 50);
    rows.push({
      scenario: 'Holds',
      measure: `availability, 1 resource × 14 days, ${a.appointments} appointments (median of 50)`,
      value: `${ms(a.medianMs)} per call (${a.slots} slots; reads ${ms(a.medianDbMs)} + compute ${ms(a.medianComputeMs)})`,
      baseline: `insert txn P50 @c8: ${ms(b)}`,
      ratio: ratio(a.medianMs, b),
      goal: '',
      result: '',
    });
  }

  // Memory
  rows.push(...memoryRows(results.memory));
  // Scale
  if (!SCALE) {
    rows.push({
      scenario: 'Scale',
      measure: 'empty database vs 1,000,000 conversations',
      value: 'not run (BENCH_SCALE=0)',
      baseline: '',
      ratio: '',
      goal: '',
      result: 'SKIPPED',
    });
  } else {
    if (results.scale) rows.push(...scaleRows(results.scale).rows);
    push(missing('Scale', 'scale', `${fmt(SCALE_CONVERSATIONS)} conversations`));
  }

  if (results.systemErrors !== undefined) {
    rows.push({
      scenario: 'System log',
      measure: 'error / warn lines logged by the system during the run',
      value: `${results.systemErrors} / ${results.systemWarnings ?? 0}`,
      baseline: '',
      ratio: '',
      goal: '0 errors',
      result: verdict(results.systemErrors === 0),
    });
  }
  return rows;
}

async function report(): Promise<string> {
  const markdown = renderMarkdown(
    {
      serverVersion: postgres?.serverVersion ?? 'unknown',
      database: process.env.DATABASE_URL
        ? 'DATABASE_URL'
        : 'embedded, fsync and synchronous_commit at defaults',
      startedAt,
      durationS: deadline.elapsedMs() / 1000,
    },
    buildRows(),
    [...(postgres?.notes ?? []), ...notes, ...(results.scale ? scaleRows(results.scale).notes : [])],
  );
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z')}.md`;
  await writeFile(file, markdown);
  for (const [name, profile] of profiles)
    await writeProfile(file.replace(/\.md$/, `.${name}.cpuprofile`), profile);
  process.stdout.write(
    `${markdown}\nwritten to ${file}${profiles.size > 0 ? ` (and ${profiles.size} CPU profiles beside it)` : ''}\n`,
  );
  return file;
}

async function cleanup(): Promise<void> {
  const system = bench;
  bench = undefined;
  if (system) await system.stop().catch((err: unknown) => log(`system stop failed: ${String(err)}`));
  const pgServer = postgres;
  postgres = undefined;
  if (pgServer) await pgServer.close().catch((err: unknown) => log(`postgres stop failed: ${String(err)}`));
}

// The hard stop: whatever is running, write what we have, clean up, leave.
const hardStop = setTimeout(() => {
  log('hard deadline reached: writing partial results and stopping');
  notes.push('the run hit its hard deadline; rows after the running phase are missing');
  const bail = setTimeout(() => process.exit(2), 25_000);
  bail.unref();
  void report()
    .catch(() => undefined)
    .then(cleanup)
    .finally(() => process.exit(2));
}, HARD_STOP_MS);
hardStop.unref();

async function main(): Promise<void> {
  postgres = await startBenchPostgres();
  const pgServer = postgres;
  log(`postgres ${pgServer.serverVersion} (${pgServer.embedded ? 'embedded' : 'DATABASE_URL'})`);
  const baselineUrl = await pgServer.database('baseline');
  await setupInsertTable(baselineUrl);

  for (const c of CONCURRENCIES) {
    await phase(`baseline: insert @c${c}`, PHASE_MS + 2_000, async () => {
      recordInsert(c, await insertBaseline(baselineUrl, c, PHASE_MS));
    });
  }
  await phase('baseline: tpcb', 2 * PHASE_MS + 15_000, async () => {
    const runner = await prepareTpcb(pgServer, baselineUrl);
    results.tpcbVia = runner.via.replace(/^pgbench \(PostgreSQL\) ([\d.]+).*$/, 'pgbench $1');
    for (const c of CONCURRENCIES) results.tpcb.set(c, await runner.run(c, PHASE_MS));
  });

  // Engine and holds share a database with its own pg-boss, no workers.
  const engineUrl = await pgServer.database('engine');
  const engine = await openEngine(engineUrl);
  try {
    await phase('engine: hot conversation', PHASE_MS + 5_000, async () => {
      results.hot = await hotConversation(engine, 8, PHASE_MS);
    });
    await phase('engine: many conversations', 20_000, async () => {
      // The remaining phases need about 90 s; 10,000 events may take less than the cap.
      results.many = await manyConversations(
        engine,
        ENGINE_CONVERSATIONS,
        8,
        deadline.budget(90_000, 150_000),
      );
    });
    await phase('holds', 15_000, async () => {
      const { race, availability } = await runHolds(engineUrl, engine.boss, {
        attempts: HOLD_ATTEMPTS,
        appointments: 500,
        calls: 50,
      });
      results.race = race;
      results.availability = availability;
      results.raceBaselineMs = await insertBurst(baselineUrl, HOLD_ATTEMPTS, HOLD_ATTEMPTS);
    });
  } finally {
    await engine.close();
  }

  // The whole system.
  const systemUrl = await pgServer.database('system');
  await phase('system: start', 4 * PHASE_MS + 40_000, async () => {
    results.memory.push(sampleMemory('before start'));
    bench = await startBenchSystem(systemUrl);
    await sleep(2_000);
    results.memory.push(sampleMemory('idle after start'));
  });
  const system = bench;
  if (system) {
    let firstCallers: string[] = [];
    await phase('system: first SMS @20', 15_000, async () => {
      const run = await profiled(() => firstSms(system, FIRST_SMS_SMALL_BURST, FIRST_SMS_TIMEOUT_MS, '708'));
      results.firstSms20 = run.value;
      if (run.profile) profiles.set('first-sms-20', run.profile);
      const drained = await system.drain(10_000);
      results.drains.push(
        `after first SMS @20: ${fmt(drained.ms)} ms${drained.pending ? ` (${drained.pending} sends still pending)` : ''}`,
      );
      system.sandbox.reset();
    });
    await phase('system: first SMS', 20_000, async () => {
      const run = await profiled(() => firstSms(system, FIRST_SMS_CALLERS, FIRST_SMS_TIMEOUT_MS));
      results.firstSms = run.value;
      if (run.profile) profiles.set('first-sms-100', run.profile);
      firstCallers = results.firstSms.callers;
      const drained = await system.drain(10_000);
      results.drains.push(
        `after first SMS: ${fmt(drained.ms)} ms${drained.pending ? ` (${drained.pending} sends still pending)` : ''}`,
      );
      system.sandbox.reset();
      results.memory.push(sampleMemory('after first SMS'));
    });
    let index = 0;
    // Before the inbound phases: their thousand replies would still be going out for a minute after.
    await phase('system: SQL per inbound SMS', 75_000, async () => {
      results.sqlPerSms = await sqlPerInboundSms(system, {
        texts: SQL_PER_SMS_TEXTS,
        existingCallers: firstCallers,
        timeoutMs: 30_000,
      });
      system.sandbox.reset();
    });
    for (const c of CONCURRENCIES) {
      await phase(`system: inbound SMS @c${c}`, PHASE_MS + 10_000, async () => {
        const run = await profiled(() =>
          inboundSms(system, {
            concurrency: c,
            durationMs: PHASE_MS,
            existingCallers: firstCallers,
            firstIndex: index,
          }),
        );
        const r = run.value;
        if (run.profile) profiles.set(`inbound-c${c}`, run.profile);
        index = r.nextIndex;
        results.inbound.set(c, r);
        const drained = await system.drain(10_000);
        results.drains.push(
          `after inbound @c${c}: ${fmt(drained.ms)} ms${drained.pending ? ` (${drained.pending} sends still pending)` : ''}`,
        );
        system.sandbox.reset();
        results.memory.push(sampleMemory(`after inbound @c${c}`));
      });
    }
    await sleep(2_000);
    results.memory.push(sampleMemory('settled'));
    results.systemErrors = system.loggedErrors();
    results.systemWarnings = system.loggedWarnings();
    bench = undefined;
    await system.stop();
  }

  // The insert baseline once more, at the end: the ratios use the mean of both runs, and the two
  // runs side by side show how much the machine drifted meanwhile.
  for (const c of CONCURRENCIES) {
    await phase(`baseline: insert @c${c} (end)`, PHASE_MS + 2_000, async () => {
      recordInsert(c, await insertBaseline(baselineUrl, c, PHASE_MS));
    });
  }

  // Last: the same measurements on an empty database and on one grown to 5,000 tenants and a
  // million conversations (a database of its own, so nothing above is affected).
  if (SCALE) {
    await phase('scale', SCALE_RESERVE_MS + 40_000, async () => {
      const scaleUrl = await pgServer.database('scale');
      results.scale = { target: scaleTarget(SCALE_CONVERSATIONS), explains: new Map(), notes: [] };
      await runScale(
        scaleUrl,
        { conversations: SCALE_CONVERSATIONS, deadline, reserveMs: SCALE_RESERVE_MS, log },
        results.scale,
      );
    });
  }
  if (results.drains.length > 0)
    notes.push(`send queue drained (workers caught up) — ${results.drains.join('; ')}`);
  notes.push(
    'the system runs inside the bench process (as startSystem composes it), so RSS includes the load generator; the Twilio sandbox forgets its recorded traffic after each phase',
  );
  if (PROFILING)
    notes.push(
      'BENCH_PROFILE=1: the CPU profiler ran during the first-SMS and inbound phases (their figures carry its cost)',
    );
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  notes.push(`the run stopped early: ${message}`);
  log(`failed: ${message}`);
}
try {
  await report();
} finally {
  await cleanup();
  clearTimeout(hardStop);
}
process.exit(exitCode);
