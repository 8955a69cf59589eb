import { createPool } from '../../src/persistence/db.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../src/providers/twilio/sandbox/server.ts';
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

// Scenario 7 — two workers share the load without double work. One API process and two worker
// processes (`tsx src/main.ts`, NMC_ROLE=api / NMC_ROLE=worker) against one Postgres; each worker
// talks to a Twilio sandbox of its own (TWILIO_API_BASE_URL), so every SMS can be attributed to the
// worker that sent it. Both sandboxes send their signed status callbacks to the API process
// (PUBLIC_BASE_URL). 200 missed calls are fired at the API; every caller must be texted exactly once
// across both sandboxes, each worker must carry at least 10% of the sends, and the database must
// look like a single-process run: 200 outbound messages, all 'delivered'.

const CALLS = 200;
const BURST_CONCURRENCY = 10;
const MIN_SHARE = 0.1;

export async function runTwoWorkers(ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  let ok = true;
  const url = await ctx.database('two_workers');
  const sandboxLogs = [fileLogger(ctx, 'two-workers-sandbox-1'), fileLogger(ctx, 'two-workers-sandbox-2')];
  const sandboxes: TwilioSandbox[] = [];
  const spawned: Spawned[] = [];
  const db = createPool(url, { max: 4 });
  try {
    for (const log of sandboxLogs) {
      sandboxes.push(await startTwilioSandbox({ ...SANDBOX_ACCOUNT, logger: log.logger }));
    }
    const [sandboxA, sandboxB] = sandboxes as [TwilioSandbox, TwilioSandbox];
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const common = {
      DATABASE_URL: url,
      PUBLIC_BASE_URL: apiUrl,
      LOG_LEVEL: 'info',
      NMC_DATA_DIR: ctx.runDir,
      HOST: '127.0.0.1',
    };
    // The API never sends an SMS itself; pointing it at sandbox A only matters if it ever did (such a
    // send would show up as an unattributed duplicate and fail the scenario).
    spawned.push(
      await startApiProcess(
        ctx,
        'two-workers-api',
        { ...common, TWILIO_API_BASE_URL: sandboxA.url, PORT: String(apiPort) },
        apiUrl,
        db,
      ),
    );

    const startWorker = async (label: string, sandbox: TwilioSandbox) => {
      const worker = spawnMain(ctx, label, {
        ...common,
        TWILIO_API_BASE_URL: sandbox.url,
        NMC_ROLE: 'worker',
        PORT: String(await freePort()),
      });
      spawned.push(worker);
      return worker;
    };
    const workers = [
      await startWorker('two-workers-worker-1', sandboxA),
      await startWorker('two-workers-worker-2', sandboxB),
    ];
    const ready = await Promise.all(
      workers.map((w) => waitUntil(() => w.output().includes('NeverMissCall is running'), 90_000, 100)),
    );
    ready.forEach((r, i) => {
      if (!r) throw new Error(`worker ${i + 1} did not start: ${workers[i]?.output().slice(-300)}`);
    });

    const callers = callerNumbers('415', CALLS, 606);
    const burstStarted = Date.now();
    const statuses = await fireMissedCalls(apiUrl, callers, BURST_CONCURRENCY).done;

    const perCaller = () => textsPerCaller(sandboxes);
    const all = await waitUntil(
      () => callers.every((c) => (perCaller().get(c) ?? 0) >= 1),
      Math.min(60_000, Math.max(10_000, ctx.remainingMs() - 60_000)),
      100,
    );
    const fullAt = Date.now();
    await sleep(3_000); // late duplicates, if any

    const map = perCaller();
    const callerSet = new Set(callers);
    const texted = callers.filter((c) => (map.get(c) ?? 0) >= 1).length;
    const exactlyOnce = callers.filter((c) => map.get(c) === 1).length;
    const duplicates = callers.filter((c) => (map.get(c) ?? 0) > 1).length;
    const extraSms = callers.reduce((n, c) => n + Math.max(0, (map.get(c) ?? 0) - 1), 0);
    const shareA = sandboxA.messages().filter((m) => callerSet.has(m.to)).length;
    const shareB = sandboxB.messages().filter((m) => callerSet.has(m.to)).length;
    const total = shareA + shareB;
    const pct = (n: number) => (total > 0 ? ((100 * n) / total).toFixed(0) : '0');

    // Status callbacks both sandboxes sent to the API: every one must be answered 2xx (the API says 204).
    const callbacks = sandboxes.flatMap((s) => s.callbacks());
    const badCallbacks = callbacks.filter(
      (c) => c.outcome.kind !== 'answered' || c.outcome.status < 200 || c.outcome.status > 299,
    );
    const callbackTargets = new Set(callbacks.map((c) => new URL(c.url).origin));

    // Same end state as a single-process run: one outbound message per caller, all delivered.
    const outboundSql = `conv_messages m JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       WHERE m.direction = 'out' AND c.caller = ANY($1)`;
    const deliveredAll = await waitUntil(
      async () => (await count(db, `${outboundSql} AND m.status = 'delivered'`, [callers])) >= CALLS,
      10_000,
      200,
    );
    const outbound = await count(db, outboundSql, [callers]);
    const deliveredRows = await count(db, `${outboundSql} AND m.status = 'delivered'`, [callers]);
    const { rows: msgStates } = await db.query<{ status: string; n: number }>(
      `SELECT m.status, count(*)::int AS n FROM conv_messages m JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       WHERE m.direction = 'out' AND c.caller = ANY($1) GROUP BY m.status ORDER BY m.status`,
      [callers],
    );
    const badWebhooks = statuses.filter((s) => s !== 200).length;

    figures.push(
      `texted ${texted}/${CALLS} callers, ${exactlyOnce}/${CALLS} exactly once; duplicates ${duplicates} callers (${extraSms} extra SMS)${all ? `; all texted ${((fullAt - burstStarted) / 1000).toFixed(1)} s after the burst began` : '; NOT all within 60 s'}`,
    );
    figures.push(`split worker-1 / worker-2: ${shareA} / ${shareB} (${pct(shareA)}% / ${pct(shareB)}%)`);
    figures.push(
      `conv_messages outbound ${outbound} (expected ${CALLS}), delivered ${deliveredRows}; by status ${msgStates.map((r) => `${r.status}:${r.n}`).join(', ') || 'none'}`,
    );
    figures.push(
      `status callbacks to the API ${callbacks.length} (not answered 2xx: ${badCallbacks.length}); webhooks not 200: ${badWebhooks}/${statuses.length}`,
    );

    if (texted !== CALLS || !all) {
      ok = false;
      findings.push(`${CALLS - texted} callers never got an SMS within the wait`);
    }
    if (duplicates > 0) {
      ok = false;
      findings.push(`${duplicates} callers were texted more than once (${extraSms} extra SMS): double work`);
    }
    const minShare = Math.ceil(CALLS * MIN_SHARE);
    if (shareA < minShare || shareB < minShare) {
      ok = false;
      findings.push(
        `the load was not shared: worker-1 sent ${shareA}, worker-2 sent ${shareB} (each needs ≥ ${minShare})`,
      );
    }
    if (outbound !== CALLS) {
      ok = false;
      findings.push(`${outbound} outbound messages recorded for ${CALLS} missed calls`);
    }
    if (!deliveredAll || deliveredRows !== CALLS) {
      ok = false;
      findings.push(`only ${deliveredRows}/${CALLS} outbound messages reached 'delivered'`);
    }
    if (badCallbacks.length > 0) {
      ok = false;
      const sample = badCallbacks
        .slice(0, 3)
        .map((c) => (c.outcome.kind === 'answered' ? `HTTP ${c.outcome.status}` : c.outcome.kind));
      findings.push(`${badCallbacks.length} status callbacks not answered 2xx (${sample.join(', ')})`);
    }
    if (callbacks.length > 0 && (callbackTargets.size !== 1 || !callbackTargets.has(apiUrl))) {
      ok = false;
      findings.push(
        `status callbacks went to ${[...callbackTargets].join(', ')} instead of the API ${apiUrl}`,
      );
    }
    if (badWebhooks > 0) {
      ok = false;
      findings.push(`${badWebhooks} webhook deliveries were not answered 200`);
    }
  } finally {
    for (const s of spawned.reverse()) await stopGracefully(s);
    stopChildren();
    await db.end().catch(() => undefined);
    for (const s of sandboxes) await s.close().catch(() => undefined);
    for (const log of sandboxLogs) await log.close();
  }
  return {
    scenario: '7 two workers',
    verdict: ok ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}
