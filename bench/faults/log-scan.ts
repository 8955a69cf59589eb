import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type ScenarioResult, type SecretKind, secrets } from './common.ts';

// Scenario 6 — logs. Every system of the run logged to a file (in-process systems through
// createLogger(level, file); child processes' stdout and stderr). Each file is searched for every
// phone number, message body, token and signature the run sent: zero hits expected. The Postgres
// server's own log is searched too and reported apart (it is the database's, not the app's).

function forms(value: string): string[] {
  const out = new Set([value, JSON.stringify(value).slice(1, -1)]);
  if (/^\+1\d{10}$/.test(value)) {
    out.add(value.slice(1)); // 1XXXXXXXXXX
    out.add(value.slice(2)); // national 10 digits
  }
  return [...out].filter((v) => v.length >= 8);
}

export async function scanLogs(files: string[], postgresLog: string): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  const needles: Array<{ needle: string; kind: SecretKind }> = [];
  for (const [value, kind] of secrets) for (const f of forms(value)) needles.push({ needle: f, kind });
  const counts: Record<SecretKind, number> = { phone: 0, body: 0, token: 0, signature: 0 };
  let lines = 0;
  let bytes = 0;
  const examples: string[] = [];
  const scan = async (file: string, tally: (kind: SecretKind, line: string, needle: string) => void) => {
    const text = await readFile(file, 'utf8').catch(() => '');
    bytes += text.length;
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      lines += 1;
      for (const { needle, kind } of needles) {
        if (contains(line, needle)) {
          tally(kind, line, needle);
          break;
        }
      }
    }
  };
  const appFiles = [...new Set(files)];
  for (const file of appFiles) {
    await scan(file, (kind, line, needle) => {
      counts[kind] += 1;
      if (examples.length < 6) {
        const at = line.indexOf(needle);
        examples.push(
          `${basename(file)}: ${kind} in …${line.slice(Math.max(0, at - 120), at).replaceAll(needle, '<HIT>')}<${kind}>…`,
        );
      }
    });
  }
  const appLines = lines;
  const pgCounts: Record<string, number> = {};
  const pgExamples: string[] = [];
  lines = 0;
  await scan(postgresLog, (kind, line, needle) => {
    pgCounts[kind] = (pgCounts[kind] ?? 0) + 1;
    if (pgExamples.length < 2) {
      const at = line.indexOf(needle);
      pgExamples.push(`${line.slice(Math.max(0, at - 100), at)}<${kind}>`);
    }
  });
  const hits = counts.phone + counts.body + counts.token + counts.signature;
  const secretCount = (k: SecretKind) => [...secrets.values()].filter((v) => v === k).length;
  figures.push(
    `${appFiles.length} log files, ${appLines} lines, ${(bytes / 1024 / 1024).toFixed(1)} MiB; searched ${secretCount('phone')} numbers, ${secretCount('body')} bodies, ${secretCount('token')} tokens, ${secretCount('signature')} signatures`,
  );
  figures.push(
    `hits: phone ${counts.phone}, body ${counts.body}, token ${counts.token}, signature ${counts.signature}`,
  );
  const pgHits = Object.values(pgCounts).reduce((a, b) => a + b, 0);
  figures.push(`Postgres server log (${lines} lines, reported apart): ${pgHits} hits`);
  if (hits > 0) findings.push(...examples.map((e) => `log leak: ${e}`));
  if (appLines === 0) findings.push('no log lines captured');
  if (pgHits > 0) findings.push(...pgExamples.map((e) => `Postgres server log (not the app's): …${e}`));
  return {
    scenario: '6 logs',
    verdict: hits === 0 && appLines > 0 ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}

/** Substring match; digit-only needles (national forms of numbers) must not sit inside a longer number. */
function contains(line: string, needle: string): boolean {
  let at = line.indexOf(needle);
  if (at < 0 || !/^\d+$/.test(needle)) return at >= 0;
  while (at >= 0) {
    const before = line[at - 1] ?? '';
    const after = line[at + needle.length] ?? '';
    if (!/\d/.test(before) && !/\d/.test(after)) return true;
    at = line.indexOf(needle, at + 1);
  }
  return false;
}
