import { createPool } from '../../src/persistence/db.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { startTwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
import { freePort } from '../../test/helpers/processes.ts';
import {
  callerNumbers,
  count,
  fileLogger,
  type RunContext,
  type ScenarioResult,
  sleep,
  textsPerCaller,
  waitUntil,
} from './common.ts';
import {
  fireMissedCalls,
  type Spawned,
  spawnMain,
  startApiProcess,
  stopChildren,
  stopGracefully,
} from './processes.ts';

// Scenario 8 — scale-out: the same burst against three shapes of the system on one Postgres each —
// one process doing everything (NMC_ROLE=all), two API processes and one worker, one API process
// and two workers — reporting throughput beside the one-process run (a ratio; the machine has two
// cores, so more processes mostly share them) and that every effect happened exactly once: each
// caller texted once, one outbound message per missed call. The burst is split round-robin over
// the API processes, as a load balancer would; all of them validate signatures against the first
// one's URL (PUBLIC_BASE_URL), where the sandbox also sends its status callbacks.

const CALLS = 200;
const BURST_CONCURRENCY = 16;

type Shape = { label: string; apis: number; workers: number };
const SHAPES: Shape[] = [
  { label: '1 process (api + worker)', apis: 1, workers: 0 },
  { label: '2 api + 1 worker', apis: 2, workers: 1 },
  { label: '1 api + 2 workers', apis: 1, workers: 2 },
];

type Measured = {
  shape: Shape;
  webhooksPerS: number;
  textsPerS: number;
  exactlyOnce: number;
  outbound: number;
};

async function measure(ctx: RunContext, shape: Shape, index: number): Promise<Measured> {
  const url = await ctx.database(`scale_out_${index}`);
  const sandboxLog = fileLogger(ctx, `scale-out-${index}-sandbox`);
  const sandbox = await startTwilioSandbox({ ...SANDBOX_ACCOUNT, logger: sandboxLog.logger });
  const db = createPool(url, { max: 4 });
  const spawned: Spawned[] = [];
  try {
    const ports = await Promise.all(Array.from({ length: shape.apis }, () => freePort()));
    const apiUrls = ports.map((p) => `http://127.0.0.1:${p}`);
    const common = {
      DATABASE_URL: url,
      PUBLIC_BASE_URL: apiUrls[0] as string,
      LOG_LEVEL: 'warn',
      TWILIO_API_BASE_URL: sandbox.url,
      NMC_DATA_DIR: ctx.runDir,
      HOST: '127.0.0.1',
    };
    for (const [i, port] of ports.entries()) {
      const role = shape.workers === 0 ? 'all' : 'api';
      spawned.push(
        await startApiProcess(
          ctx,
          `scale-out-${index}-api-${i + 1}`,
          { ...common, NMC_ROLE: role, PORT: String(port) },
          apiUrls[i] as string,
          db,
        ),
      );
    }
    const workers = [];
    for (let i = 0; i < shape.workers; i++) {
      const worker = spawnMain(ctx, `scale-out-${index}-worker-${i + 1}`, {
        ...common,
        NMC_ROLE: 'worker',
        PORT: String(await freePort()),
      });
      spawned.push(worker);
      workers.push(worker);
    }
    for (const w of workers) {
      if (!(await waitUntil(() => w.output().includes('NeverMissCall is running'), 90_000, 100)))
        throw new Error(`a worker did not start: ${w.output().slice(-300)}`);
    }

    const callers = callerNumbers('628', CALLS, 808 + index);
    const started = Date.now();
    // Round-robin over the API processes: each gets every n-th caller, fired side by side.
    const bursts = apiUrls.map((apiUrl, i) =>
      fireMissedCalls(
        apiUrl,
        callers.filter((_, k) => k % apiUrls.length === i),
        Math.ceil(BURST_CONCURRENCY / apiUrls.length),
        apiUrls[0],
      ),
    );
    const statuses = (await Promise.all(bursts.map((b) => b.done))).flat();
    const webhooksDone = Date.now();
    const perCaller = () => textsPerCaller([sandbox]);
    await waitUntil(() => callers.every((c) => (perCaller().get(c) ?? 0) >= 1), 60_000, 50);
    const textedAt = Date.now();
    await sleep(2_000); // late duplicates, if any
    const map = perCaller();
    const outbound = await count(
      db,
      `conv_messages m JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       WHERE m.direction = 'out' AND c.caller = ANY($1)`,
      [callers],
    );
    if (statuses.some((s) => s !== 200)) throw new Error(`webhooks not answered 200 in ${shape.label}`);
    return {
      shape,
      webhooksPerS: (2 * CALLS) / ((webhooksDone - started) / 1000),
      textsPerS: CALLS / ((textedAt - started) / 1000),
      exactlyOnce: callers.filter((c) => map.get(c) === 1).length,
      outbound,
    };
  } finally {
    for (const s of spawned.reverse()) await stopGracefully(s);
    await db.end().catch(() => undefined);
    await sandbox.close().catch(() => undefined);
    await sandboxLog.close();
  }
}

export async function runScaleOut(ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  const results: Measured[] = [];
  try {
    for (const [i, shape] of SHAPES.entries()) results.push(await measure(ctx, shape, i));
  } finally {
    stopChildren();
  }
  const base = results[0];
  for (const r of results) {
    const ratio = base ? ` (${(r.textsPerS / base.textsPerS).toFixed(2)}× the one-process run)` : '';
    figures.push(
      `${r.shape.label}: webhooks ${r.webhooksPerS.toFixed(0)}/s, missed call → text ${r.textsPerS.toFixed(0)} callers/s${ratio}; texted exactly once ${r.exactlyOnce}/${CALLS}, outbound messages ${r.outbound}`,
    );
    if (r.exactlyOnce !== CALLS || r.outbound !== CALLS) {
      findings.push(
        `${r.shape.label}: ${r.exactlyOnce}/${CALLS} texted exactly once, ${r.outbound} outbound messages`,
      );
    }
  }
  return {
    scenario: '8 scale-out',
    verdict: findings.length === 0 ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}
