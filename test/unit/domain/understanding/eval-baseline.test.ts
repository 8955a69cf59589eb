import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BASELINE_PATH, loadCatalogs, loadCorpus } from '../../../../scripts/eval/corpus.ts';
import { understandingReader } from '../../../../scripts/eval/readers.ts';
import { type Baseline, belowBaseline, evaluate } from '../../../../scripts/eval/score.ts';

// The checks of `npm run eval`, so `npm test` fails too when understanding gets worse than the
// committed baseline (eval/baseline.json).

describe('understanding eval', () => {
  it('is at or above the committed baseline on the labelled corpus', async () => {
    const records = loadCorpus();
    expect(records.length).toBeGreaterThanOrEqual(300);
    const baseline = JSON.parse(readFileSync(BASELINE_PATH, 'utf8')) as Baseline;
    expect(baseline.understand).toBeDefined();
    const report = await evaluate(records, understandingReader(loadCatalogs()));
    expect(belowBaseline('understand', report, baseline)).toEqual([]);
  });
});
