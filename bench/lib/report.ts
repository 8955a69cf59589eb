import { cpus, totalmem } from 'node:os';

// The result table: every figure beside a baseline measured in the same run, and the ratio between
// them, because the machines are shared and noisy and absolute numbers travel badly.

export type Verdict = 'PASS' | 'FAIL' | '';

export type Row = {
  scenario: string;
  measure: string;
  value: string;
  baseline: string;
  ratio: string;
  goal: string;
  result: Verdict | 'SKIPPED' | 'ERROR';
};

export type Header = { serverVersion: string; database: string; startedAt: Date; durationS: number };

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return `${fmt(n, n < 10 ? 2 : n < 100 ? 1 : 0)} ms`;
}

export function ratio(value: number, baseline: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return 'n/a';
  return `${fmt(value / baseline, 2)}×`;
}

export function verdict(ok: boolean): Verdict {
  return ok ? 'PASS' : 'FAIL';
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function renderMarkdown(header: Header, rows: Row[], notes: string[]): string {
  const lines = [
    `# NeverMissCall bench — ${header.startedAt.toISOString()}`,
    '',
    `- Machine: ${cpus().length} cores (${cell(cpus()[0]?.model?.trim() ?? 'unknown cpu')}), ${fmt(totalmem() / 1024 ** 3, 1)} GiB memory`,
    `- Node ${process.version}, PostgreSQL ${header.serverVersion} (${header.database})`,
    `- Total run time ${fmt(header.durationS)} s; ratios are against baselines measured in this run`,
    '',
    '| Scenario | Measure | Value | Baseline (same run) | Ratio | Goal | Result |',
    '|---|---|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${cell(r.scenario)} | ${cell(r.measure)} | ${cell(r.value)} | ${cell(r.baseline)} | ${cell(r.ratio)} | ${cell(r.goal)} | ${r.result ? `**${r.result}**` : ''} |`,
    ),
  ];
  if (notes.length > 0) {
    lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  }
  return `${lines.join('\n')}\n`;
}
