import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  Intent,
  TimeAsk,
  Trade,
  UnderstandContext,
} from '../../src/domain/understanding/understanding.ts';

// The labelled corpus of customer texts (eval/corpus/messages.jsonl) and the catalogs it was
// written against (eval/corpus/catalogs.json), read into typed records.

/**
 * `dev` is tuned on. `holdout` was written with it, before any tuning, and is only reported.
 * `fresh` was written after the first tuning round and labelled before it was first run; the
 * second round was tuned on it. `final` was written after both rounds and labelled before its
 * first run; the third round was tuned on it. `blind` was written after all three, labelled before
 * its first run, and never tuned on.
 */
export type Split = 'dev' | 'holdout' | 'fresh' | 'final' | 'blind';

export type CorpusRecord = {
  id: string;
  split: Split;
  text: string;
  trade: Trade;
  context: {
    step: string;
    now: string;
    timeZone: string;
    offered: { start: string }[];
    appointment: { start: string } | null;
  };
  expect: {
    intent: Intent;
    /** Expected best service id, null for none; absent = judged only for need/price/out_of_scope. */
    service?: string | null;
    /** The non-null fields of the expected TimeAsk; null for none. */
    time?: Partial<TimeAsk> | null;
    /** 0-based index of the expected pick. */
    choice?: number | null;
    language?: 'en' | 'es' | 'other';
  };
};

export type Catalogs = Record<Trade, UnderstandContext['catalog']>;

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export const CORPUS_PATH = here('../../eval/corpus/messages.jsonl');
export const CATALOGS_PATH = here('../../eval/corpus/catalogs.json');
export const BASELINE_PATH = here('../../eval/baseline.json');

export function loadCorpus(): CorpusRecord[] {
  return readFileSync(CORPUS_PATH, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusRecord);
}

export function loadCatalogs(): Catalogs {
  return JSON.parse(readFileSync(CATALOGS_PATH, 'utf8')) as Catalogs;
}

export function contextOf(record: CorpusRecord, catalogs: Catalogs): UnderstandContext {
  return {
    now: record.context.now,
    timeZone: record.context.timeZone,
    trade: record.trade,
    catalog: catalogs[record.trade],
    offered: record.context.offered,
    appointment: record.context.appointment,
  };
}
