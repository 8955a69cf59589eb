import { readFileSync, writeFileSync } from 'node:fs';
import { startLlmSandbox } from '../src/providers/llm/sandbox/server.ts';
import { createModelUnderstander } from '../src/providers/llm/understand-model.ts';
import { BASELINE_PATH, loadCatalogs, loadCorpus, type Split } from './eval/corpus.ts';
import { modelReader, previousReader, understandingReader } from './eval/readers.ts';
import {
  type Baseline,
  belowBaseline,
  evaluate,
  formatConfusion,
  formatScores,
  type Report,
  toBaseline,
} from './eval/score.ts';

// `npm run eval`: how well customers' texts are understood, measured on the labelled corpus, beside
// the committed baseline (eval/baseline.json). Exits 1 when a figure of this layer falls below it.
//   --misses          list every wrong judgement on the development part
//   --misses-holdout, --misses-fresh, --misses-final  the same on the other parts (for reports)
//   --write-baseline  record today's figures as the new baseline (commit it with the change)
//   --model           also read the corpus through the language-model path: LLM_BASE_URL (with
//                     LLM_MODEL, LLM_API_KEY) when set, else the model sandbox; exits 1 when an
//                     answer does not have the Understanding shape

const args = new Set(process.argv.slice(2));
const records = loadCorpus();
const catalogs = loadCatalogs();
const baseline = JSON.parse(readFileSync(BASELINE_PATH, 'utf8')) as Baseline;

function print(name: string, report: Report): void {
  console.log(`\n== ${name} ==`);
  console.log(formatScores(`all (${records.length})`, report.scores.all));
  console.log(formatScores('dev', report.scores.dev));
  console.log(formatScores('holdout', report.scores.holdout));
  console.log(formatScores('fresh', report.scores.fresh));
  console.log(formatScores('final', report.scores.final));
  console.log(formatScores('blind', report.scores.blind));
  const committed = baseline[name];
  if (committed !== undefined) {
    const fig = (v: Record<string, number>) =>
      Object.entries(v)
        .map(([k, x]) => `${k} ${(100 * x).toFixed(1)}%`)
        .join('  ');
    for (const [split, figures] of Object.entries(committed)) {
      if (figures !== undefined) console.log(`${`baseline ${split}`.padEnd(22)} ${fig(figures)}`);
    }
  }
}

const current = await evaluate(records, understandingReader(catalogs));
const previous = await evaluate(records, previousReader(catalogs));

print('previous', previous);
print('understand', current);
console.log('\nintent confusion (understand): expected  right/total  read instead');
console.log(formatConfusion(current.confusion));

// Held-out misses are listed only on request: tuning looks at the development part alone.
const MISSES_FLAGS: Record<string, Split> = {
  '--misses': 'dev',
  '--misses-holdout': 'holdout',
  '--misses-fresh': 'fresh',
  '--misses-final': 'final',
  '--misses-blind': 'blind',
};
for (const [flag, split] of Object.entries(MISSES_FLAGS)) {
  if (!args.has(flag)) continue;
  const splitOf = new Map(records.map((r) => [r.id, r.split]));
  console.log(`\nmisses (understand, ${split}):`);
  for (const m of current.misses.filter((x) => splitOf.get(x.id) === split)) {
    console.log(
      `  ${m.id} ${m.figure}: ${JSON.stringify(m.text)} expected ${JSON.stringify(m.expected)} got ${JSON.stringify(m.actual)}`,
    );
  }
}

if (args.has('--model')) {
  const baseUrl = process.env.LLM_BASE_URL;
  const sandbox = baseUrl ? null : await startLlmSandbox();
  const model = createModelUnderstander({
    baseUrl: baseUrl ?? sandbox?.url ?? '',
    model: process.env.LLM_MODEL ?? 'sandbox',
    ...(process.env.LLM_API_KEY ? { apiKey: process.env.LLM_API_KEY } : {}),
  });
  const reader = modelReader(catalogs, model);
  const viaModel = await evaluate(records, reader.read);
  await sandbox?.close();
  print(baseUrl ? `model ${process.env.LLM_MODEL ?? ''}` : 'model sandbox', viaModel);
  console.log(`answers with the Understanding shape: ${records.length - reader.refused()}/${records.length}`);
  if (reader.refused() > 0) {
    console.error('some answers did not have the Understanding shape');
    process.exitCode = 1;
  }
}

if (args.has('--write-baseline')) {
  const next: Baseline = { previous: toBaseline(previous), understand: toBaseline(current) };
  writeFileSync(BASELINE_PATH, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`\nbaseline written to ${BASELINE_PATH}`);
} else {
  const failures = belowBaseline('understand', current, baseline);
  if (failures.length > 0) {
    console.error(`\nbelow the committed baseline:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('\nat or above the committed baseline');
}
