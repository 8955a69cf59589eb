import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// The metrics behind the objectives, read as Prometheus reads them (GET /metrics), after a real
// missed call: the first-response histogram counts it, the outbox and readiness gauges answer, and
// every metric the alerting rules and the dashboard name exists (a renamed metric would silence an
// alert without anyone noticing).

const ROOT = join(import.meta.dirname, '..', '..');

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  await t?.stop();
});

async function scrape(): Promise<string> {
  const app = t.system.app;
  if (!app) throw new Error('no API in the test system');
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** The value of a sample line, e.g. `nmc_first_response_seconds_count 1`. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

/** The metric names a PromQL text refers to (ours and the process's). */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\b(nmc_[a-z_]+|process_[a-z_]+)\b/g)].map((m) =>
    (m[1] ?? '').replace(/_(bucket|count|sum)$/, ''),
  );
}

describe('objective metrics', () => {
  it('count a missed call in the first-response histogram, and report the outbox and readiness', async () => {
    const before = sample(await scrape(), 'nmc_first_response_seconds_count') ?? 0;
    await t.phone.missedCall({ from: '+13105550177', to: DEMO.twilio_number });
    await t.sandbox.waitForMessages(1);
    const after = await waitFor(async () => {
      const n = sample(await scrape(), 'nmc_first_response_seconds_count') ?? 0;
      return n > before ? n : null;
    });
    expect(after).toBe(before + 1);
    const text = await scrape();
    expect(sample(text, 'nmc_ready')).toBe(1);
    expect(sample(text, 'nmc_outbox_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'nmc_outbox_dead_letters')).toBe(0);
    expect(text).toMatch(/^nmc_queue_jobs\{queue="sms-send",state="queued"\} \d+$/m);
  });

  it('has every metric that the alerting rules and the dashboard name', async () => {
    const text = await scrape();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const rules = parse(readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'ops/grafana/nevermisscall.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const named = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
      ...dashboard.panels.flatMap((p) => p.targets.map((q) => ({ where: `panel ${p.title}`, expr: q.expr }))),
    ];
    expect(named.length).toBeGreaterThan(10);
    for (const { where, expr } of named) {
      for (const name of metricNames(expr)) expect(exported.has(name), `${where}: ${name}`).toBe(true);
    }
  });
});
