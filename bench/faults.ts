import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type FaultsCluster, openCluster } from './faults/cluster.ts';
import { errorText, type RunContext, type ScenarioResult } from './faults/common.ts';
import { runFuzz } from './faults/fuzz.ts';
import { runKillWorker } from './faults/kill-worker.ts';
import { scanLogs } from './faults/log-scan.ts';
import { runPostgresRestart } from './faults/pg-restart.ts';
import { stopChildren } from './faults/processes.ts';
import { runReplays } from './faults/replays.ts';
import { runScaleOut } from './faults/scale-out.ts';
import { runTwilioFaults } from './faults/twilio-faults.ts';
import { runTwoWorkers } from './faults/two-workers.ts';

// `npm run faults`: the fault-injection suite. Starts everything it needs (an embedded Postgres
// under .data/faults-pg/<pid>, or DATABASE_URL), runs each scenario against 127.0.0.1 only, prints
// a markdown table (also written to bench/results/faults-<timestamp>.md) and exits non-zero when a
// scenario fails. A global deadline ends the run within 10 minutes whatever happens.
//
//   npm run faults                 every scenario
//   npm run faults -- fuzz replays only those (by name: replays, kill, postgres, twilio, fuzz,
//                                  two-workers, scale-out)

const GLOBAL_DEADLINE_MS = 9 * 60_000;
const startedAt = new Date();
const deadlineAt = Date.now() + GLOBAL_DEADLINE_MS;
const runDir = join('.data', 'faults-pg', String(process.pid));
const logDir = join(runDir, 'logs');

type Scenario = {
  name: string;
  title: string;
  budgetMs: number;
  run: (ctx: RunContext) => Promise<ScenarioResult>;
};

const SCENARIOS: Scenario[] = [
  { name: 'replays', title: '1 replays', budgetMs: 60_000, run: runReplays },
  { name: 'twilio', title: '4 Twilio 429/500/timeouts', budgetMs: 60_000, run: runTwilioFaults },
  { name: 'fuzz', title: '5 fuzzing', budgetMs: 150_000, run: runFuzz },
  { name: 'kill', title: '2 kill -9 worker', budgetMs: 200_000, run: runKillWorker },
  { name: 'postgres', title: '3 Postgres restart', budgetMs: 90_000, run: runPostgresRestart },
  { name: 'two-workers', title: '7 two workers share the load', budgetMs: 150_000, run: runTwoWorkers },
  {
    name: 'scale-out',
    title: '8 scale-out: 1 process, 2 api + 1 worker, 1 api + 2 workers',
    budgetMs: 240_000,
    run: runScaleOut,
  },
];

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function render(results: ScenarioResult[], cluster: FaultsCluster | null, notes: string[]): string {
  const lines = [
    `# NeverMissCall fault injection — ${startedAt.toISOString()}`,
    '',
    `- Machine: ${cpus().length} cores (${cell(cpus()[0]?.model?.trim() ?? 'unknown cpu')}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory`,
    `- Node ${process.version}, PostgreSQL ${cluster?.serverVersion ?? 'unknown'} (${cluster?.embedded ? 'embedded, this run' : 'DATABASE_URL'})`,
    `- Total run time ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`,
    '',
    '| Scenario | Result | Numbers | Time |',
    '|---|---|---|---:|',
    ...results.map(
      (r) =>
        `| ${cell(r.scenario)} | **${r.verdict}** | ${r.figures.map(cell).join('<br>')} | ${(r.durationMs / 1000).toFixed(1)} s |`,
    ),
  ];
  const findings = results.flatMap((r) => r.findings.map((f) => `${r.scenario}: ${f}`));
  if (findings.length > 0 || notes.length > 0) {
    lines.push('', '## Findings and notes', '', ...[...findings, ...notes].map((f) => `- ${cell(f)}`));
  }
  return `${lines.join('\n')}\n`;
}

async function withBudget(scenario: Scenario, ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const budget = Math.min(scenario.budgetMs, ctx.remainingMs() - 45_000);
  if (budget < 10_000) {
    return {
      scenario: scenario.title,
      verdict: 'SKIPPED',
      figures: ['no time left before the global deadline'],
      findings: [],
      durationMs: 0,
    };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ScenarioResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          scenario: scenario.title,
          verdict: 'ERROR',
          figures: [`did not finish within its ${Math.round(budget / 1000)} s budget`],
          findings: [],
          durationMs: Date.now() - started,
        }),
      budget,
    );
  });
  try {
    return await Promise.race([scenario.run(ctx).then((r) => ({ ...r, scenario: scenario.title })), timeout]);
  } catch (err) {
    return {
      scenario: scenario.title,
      verdict: 'ERROR',
      figures: [`harness error: ${errorText(err)}`],
      findings: [
        String((err as Error)?.stack ?? err)
          .split('\n')
          .slice(0, 4)
          .join(' / '),
      ],
      durationMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const selected = only.length > 0 ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  await mkdir(logDir, { recursive: true });
  const notes: string[] = [];
  const results: ScenarioResult[] = [];
  let cluster: FaultsCluster | null = null;
  const logFiles: string[] = [];
  const hardStop = setTimeout(() => {
    process.stderr.write('faults: global deadline reached; stopping\n');
    stopChildren();
    process.stdout.write(render(results, cluster, [...notes, 'the global deadline stopped the run']));
    process.exit(2);
  }, GLOBAL_DEADLINE_MS + 45_000);
  hardStop.unref();
  try {
    process.stderr.write(
      `faults: starting Postgres (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded'})\n`,
    );
    cluster = await openCluster(runDir, join(logDir, 'postgres-server.log'));
    const open = cluster;
    const ctx: RunContext = {
      runDir,
      logDir,
      logFiles,
      database: (label) => open.database(label),
      serverVersion: open.serverVersion,
      deadlineAt,
      remainingMs: () => deadlineAt - Date.now(),
      cluster: open,
    };
    for (const scenario of selected) {
      process.stderr.write(`faults: ${scenario.title}…\n`);
      const result = await withBudget(scenario, ctx);
      process.stderr.write(
        `faults: ${scenario.title}: ${result.verdict} (${(result.durationMs / 1000).toFixed(1)} s)\n`,
      );
      results.push(result);
    }
    stopChildren();
    const scan = await scanLogs(logFiles, join(logDir, 'postgres-server.log'));
    results.push(scan);
    notes.push(...open.notes);
  } catch (err) {
    notes.push(`harness error: ${errorText(err)}`);
    results.push({
      scenario: 'harness',
      verdict: 'ERROR',
      figures: [errorText(err)],
      findings: [],
      durationMs: 0,
    });
  } finally {
    stopChildren();
    await cluster?.close().catch((err: unknown) => notes.push(`cleanup: ${errorText(err)}`));
    await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
    await rmdir(join('.data', 'faults-pg')).catch(() => undefined);
  }
  const markdown = render(results, cluster, notes);
  process.stdout.write(markdown);
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  await mkdir(join('bench', 'results'), { recursive: true });
  const file = join('bench', 'results', `faults-${stamp}.md`);
  await writeFile(file, markdown);
  process.stderr.write(`faults: written to ${file}\n`);
  clearTimeout(hardStop);
  return results.every((r) => r.verdict === 'PASS' || r.verdict === 'SKIPPED') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
