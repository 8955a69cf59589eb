import {
  INTENTS,
  type Intent,
  type TimeAsk,
  type Understanding,
} from '../../src/domain/understanding/understanding.ts';
import type { CorpusRecord, Split } from './corpus.ts';

// How a reader's answers compare with the corpus labels. Pure.
//
// What is judged on which record (the labels only state what departs from these defaults):
// - intent and language on every record (language defaults to English);
// - the best service when the record names one, and on every need, price and out-of-scope text
//   (expected none unless named);
// - the time ask when the record states one, and on every time, change, need, price, none, yes
//   and no text (expected none unless stated): a time read where none was asked is an error too;
// - the choice on every record sent while times were on offer (expected none unless stated).

export type Reading = Pick<Understanding, 'intent' | 'language' | 'services' | 'time' | 'choice'>;

export type Reader = (record: CorpusRecord) => Reading | Promise<Reading>;

export const FIGURES = ['intent', 'service', 'time', 'choice', 'language'] as const;
export type Figure = (typeof FIGURES)[number];

export type Tally = { right: number; total: number };
export type Scores = Record<Figure, Tally>;
export type Miss = { id: string; text: string; figure: Figure; expected: unknown; actual: unknown };

export type Report = {
  scores: Record<'all' | Split, Scores>;
  /** expected intent → actual intent → count, over all records. */
  confusion: Record<string, Record<string, number>>;
  misses: Miss[];
};

const TIME_JUDGED: ReadonlySet<Intent> = new Set(['time', 'change', 'need', 'price', 'none', 'yes', 'no']);
const SERVICE_JUDGED: ReadonlySet<Intent> = new Set(['need', 'price', 'out_of_scope']);
const TIME_FIELDS = ['date', 'until', 'at', 'after', 'before', 'partOfDay'] as const;

function emptyScores(): Scores {
  return {
    intent: { right: 0, total: 0 },
    service: { right: 0, total: 0 },
    time: { right: 0, total: 0 },
    choice: { right: 0, total: 0 },
    language: { right: 0, total: 0 },
  };
}

function fullTime(t: Partial<TimeAsk> | null | undefined): Record<string, string | null> | null {
  if (t === null || t === undefined) return null;
  return Object.fromEntries(TIME_FIELDS.map((f) => [f, t[f] ?? null]));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What is judged on one record: figure → [expected, actual]. */
export function judged(record: CorpusRecord, reading: Reading): Partial<Record<Figure, [unknown, unknown]>> {
  const e = record.expect;
  const out: Partial<Record<Figure, [unknown, unknown]>> = {
    intent: [e.intent, reading.intent],
    language: [e.language ?? 'en', reading.language],
  };
  if ('service' in e || SERVICE_JUDGED.has(e.intent))
    out.service = [e.service ?? null, reading.services[0]?.id ?? null];
  if ('time' in e || TIME_JUDGED.has(e.intent)) out.time = [fullTime(e.time), fullTime(reading.time)];
  if (record.context.offered.length > 0) out.choice = [e.choice ?? null, reading.choice];
  return out;
}

export async function evaluate(records: readonly CorpusRecord[], reader: Reader): Promise<Report> {
  const scores = {
    all: emptyScores(),
    dev: emptyScores(),
    holdout: emptyScores(),
    fresh: emptyScores(),
    final: emptyScores(),
    blind: emptyScores(),
  };
  const confusion: Report['confusion'] = {};
  const misses: Miss[] = [];
  for (const record of records) {
    const reading = await reader(record);
    const row = confusion[record.expect.intent] ?? {};
    row[reading.intent] = (row[reading.intent] ?? 0) + 1;
    confusion[record.expect.intent] = row;
    for (const [figure, pair] of Object.entries(judged(record, reading)) as [Figure, [unknown, unknown]][]) {
      const right = sameJson(pair[0], pair[1]);
      for (const bucket of [scores.all, scores[record.split]]) {
        bucket[figure].total++;
        if (right) bucket[figure].right++;
      }
      if (!right)
        misses.push({ id: record.id, text: record.text, figure, expected: pair[0], actual: pair[1] });
    }
  }
  return { scores, confusion, misses };
}

export function rate(t: Tally): number {
  return t.total === 0 ? 1 : t.right / t.total;
}

export function formatScores(label: string, s: Scores): string {
  const cells = FIGURES.map((f) => `${f} ${(100 * rate(s[f])).toFixed(1)}% (${s[f].right}/${s[f].total})`);
  return `${label.padEnd(22)} ${cells.join('  ')}`;
}

export function formatConfusion(confusion: Report['confusion']): string {
  const lines: string[] = [];
  for (const expected of INTENTS) {
    const row = confusion[expected];
    if (row === undefined) continue;
    const total = Object.values(row).reduce((a, b) => a + b, 0);
    const wrong = Object.entries(row)
      .filter(([actual]) => actual !== expected)
      .sort((a, b) => b[1] - a[1])
      .map(([actual, n]) => `${actual}×${n}`);
    lines.push(
      `  ${expected.padEnd(13)} ${String(row[expected] ?? 0).padStart(3)}/${String(total).padEnd(3)} ${wrong.join(' ')}`,
    );
  }
  return lines.join('\n');
}

export type Baseline = Record<string, Partial<Record<'all' | Split, Record<Figure, number>>>>;

/** Figures (as fractions) that fell below the baseline, as readable lines; empty when none did. */
export function belowBaseline(reader: string, report: Report, baseline: Baseline): string[] {
  const committed = baseline[reader];
  if (committed === undefined) return [];
  const out: string[] = [];
  for (const split of ['all', 'holdout', 'fresh', 'final', 'blind'] as const) {
    for (const figure of FIGURES) {
      const floor = committed[split]?.[figure];
      const now = rate(report.scores[split][figure]);
      // Rounded like the committed figures, so an unchanged reader always passes.
      if (floor !== undefined && Math.round(now * 1000) / 1000 < floor) {
        out.push(
          `${reader} ${split} ${figure}: ${(100 * now).toFixed(1)}% < baseline ${(100 * floor).toFixed(1)}%`,
        );
      }
    }
  }
  return out;
}

export function toBaseline(report: Report): Baseline[string] {
  const pick = (s: Scores): Record<Figure, number> =>
    Object.fromEntries(FIGURES.map((f) => [f, Math.round(rate(s[f]) * 1000) / 1000])) as Record<
      Figure,
      number
    >;
  return {
    all: pick(report.scores.all),
    holdout: pick(report.scores.holdout),
    fresh: pick(report.scores.fresh),
    final: pick(report.scores.final),
    blind: pick(report.scores.blind),
  };
}
