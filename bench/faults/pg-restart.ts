import { join } from 'node:path';
import { findTenantBySlug } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { type FaultsCluster, openCluster } from './cluster.ts';
import {
  callerNumbers,
  errorText,
  type RunContext,
  type ScenarioResult,
  sleep,
  smsParams,
  startInProcess,
  twilioPoster,
  twilioSid,
  unhandledPgErrors,
  waitUntil,
} from './common.ts';

// Scenario 3 — Postgres stopped and started again under webhook load. Inbound SMS webhooks flow to
// an in-process system; the embedded cluster is stopped (fast shutdown) for ~3 s and started again
// on the same port and data directory. Every request answered 2xx must have its inbound message row;
// the others must have been answered 5xx; after the restart new requests succeed without restarting
// the app, and the workers send again.

const LOAD_CONCURRENCY = 8;
const OUTAGE_MS = 3_000;

type Sent = { sid: string; status: number; at: number; error?: string };

export async function runPostgresRestart(ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  let ok = true;
  // On DATABASE_URL the server is not ours to stop: this scenario brings an embedded cluster of its own.
  let own: FaultsCluster | null = null;
  let cluster = ctx.cluster;
  if (!cluster.embedded) {
    own = await openCluster(join(ctx.runDir, 'restart'), join(ctx.logDir, 'postgres-server-restart.log'), {
      embedded: true,
    });
    cluster = own;
  }
  const { stop, start } = cluster;
  if (!stop || !start) throw new Error('no stoppable cluster');
  const url = await cluster.database('pgrestart');
  const crashesBefore = unhandledPgErrors.length;
  const sys = await startInProcess(ctx, 'pgrestart-system', url);
  try {
    const { system, baseUrl } = sys;
    const sandbox = system.twilioSandbox;
    if (!sandbox) throw new Error('the system must run on its own Twilio sandbox');
    const demo = await findTenantBySlug(system.db, DEMO.slug);
    if (!demo) throw new Error('demo tenant missing');
    const callers = callerNumbers('503', 40, 303);
    const post = twilioPoster({ appBaseUrl: baseUrl, authToken: SANDBOX_ACCOUNT.authToken });
    const sent: Sent[] = [];
    let n = 0;
    let stopLoad = false;
    const one = async (): Promise<Sent> => {
      const i = n++;
      const sid = twilioSid('SM');
      const params = smsParams(
        SANDBOX_ACCOUNT.accountSid,
        sid,
        callers[i % 30] as string,
        DEMO.twilio_number,
        `is thursday afternoon possible ${i}q${sid.slice(2, 8)}`,
      );
      try {
        const res = await post('/webhooks/twilio/sms', params);
        return { sid, status: res.status, at: Date.now() };
      } catch (err) {
        return { sid, status: 0, at: Date.now(), error: errorText(err) };
      }
    };
    const load = Promise.all(
      Array.from({ length: LOAD_CONCURRENCY }, async () => {
        while (!stopLoad) {
          sent.push(await one());
          await sleep(15);
        }
      }),
    );
    await sleep(2_000);
    const stopAt = Date.now();
    await stop();
    const downAt = Date.now();
    await sleep(OUTAGE_MS);
    await start();
    const upAt = Date.now();
    await sleep(6_000);
    stopLoad = true;
    await load;

    // After the restart: sequential requests, all must succeed, without restarting the app.
    const after: Sent[] = [];
    for (let i = 0; i < 20; i++) after.push(await one());
    // The workers recovered too: a fresh caller's text gets the assistant's answer at the sandbox.
    const fresh = callers[35] as string;
    const before = sandbox.messages().filter((m) => m.to === fresh).length;
    const probe = smsParams(
      SANDBOX_ACCOUNT.accountSid,
      twilioSid('SM'),
      fresh,
      DEMO.twilio_number,
      'hello are you open on saturday',
    );
    const probeRes = await post('/webhooks/twilio/sms', probe);
    const replied = await waitUntil(
      () => sandbox.messages().filter((m) => m.to === fresh).length > before,
      20_000,
      100,
    );
    const ready = await fetch(`${baseUrl}/readyz`)
      .then((r) => r.status)
      .catch(() => 0);

    const all = [...sent, ...after];
    const ok2xx = all.filter((s) => s.status >= 200 && s.status < 300);
    const fivexx = all.filter((s) => s.status >= 500);
    const fourxx = all.filter((s) => s.status >= 400 && s.status < 500);
    const noAnswer = all.filter((s) => s.status === 0);
    const stored = new Set(
      (
        await system.db.query<{ provider_sid: string }>(
          "SELECT provider_sid FROM conv_messages WHERE direction = 'in' AND provider_sid = ANY($1)",
          [ok2xx.map((s) => s.sid)],
        )
      ).rows.map((r) => r.provider_sid),
    );
    const lost = ok2xx.filter((s) => !stored.has(s.sid));
    const firstOkAfterUp = sent
      .filter((s) => s.at >= upAt && s.status >= 200 && s.status < 300)
      .sort((a, b) => a.at - b.at)[0];
    const failuresLate = sent.filter(
      (s) => s.at > upAt + 3_000 && (s.status < 200 || s.status >= 300),
    ).length;
    const afterOk = after.filter((s) => s.status >= 200 && s.status < 300).length;
    const statusList = [...new Set(fivexx.map((s) => s.status))].join('/');

    figures.push(
      `${all.length} webhooks: ${ok2xx.length} 2xx, ${fivexx.length} 5xx${statusList ? ` (${statusList})` : ''}, ${fourxx.length} 4xx, ${noAnswer.length} no answer`,
    );
    figures.push(`2xx without their inbound message row: ${lost.length}`);
    figures.push(
      `Postgres down ${((upAt - downAt) / 1000).toFixed(1)} s (stop took ${((downAt - stopAt) / 1000).toFixed(1)} s); first 2xx ${firstOkAfterUp ? `${((firstOkAfterUp.at - upAt) / 1000).toFixed(1)} s` : 'never'} after the restart`,
    );
    figures.push(
      `after the restart: ${afterOk}/20 sequential requests 2xx, failures > 3 s after restart ${failuresLate}; probe ${probeRes.status}, workers ${replied ? 'sent again' : 'did NOT send'}; /readyz ${ready}`,
    );
    if (lost.length > 0) {
      ok = false;
      findings.push(`${lost.length} requests answered 2xx have no inbound message (e.g. ${lost[0]?.sid})`);
    }
    if (fourxx.length > 0 || noAnswer.length > 0) {
      ok = false;
      findings.push(
        `during the outage some requests were answered 4xx (${[...new Set(fourxx.map((s) => s.status))].join('/')}) ×${fourxx.length} or not at all ×${noAnswer.length} instead of 5xx${noAnswer[0]?.error ? ` (${noAnswer[0].error})` : ''}`,
      );
    }
    if (afterOk !== 20 || failuresLate > 0 || !replied || ready !== 200) {
      ok = false;
      findings.push(`the system did not fully recover after Postgres came back (see the numbers)`);
    }
    if (fivexx.length === 0) findings.push('no request hit the outage (load too light?)');
    if (unhandledPgErrors.length > crashesBefore) {
      ok = false;
      const mine = unhandledPgErrors.slice(crashesBefore);
      const distinct = [...new Set(mine)];
      findings.push(
        `${mine.length} unhandled 'error' events on pg clients during the outage — each would have crashed the process (the harness intercepted them): ${distinct.slice(0, 3).join(' | ')}`,
      );
    }
  } finally {
    await sys.stop();
    await own?.close();
  }
  return {
    scenario: '3 postgres',
    verdict: ok ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}
