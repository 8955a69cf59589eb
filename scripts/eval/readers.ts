import { interpretReply } from '../../src/domain/booking-intent.ts';
import { matchCatalog } from '../../src/domain/catalog-match.ts';
import { understand } from '../../src/domain/understanding/understand.ts';
import type { ModelUnderstander } from '../../src/providers/llm/understand-model.ts';
import { type Catalogs, type CorpusRecord, contextOf } from './corpus.ts';
import type { Reading } from './score.ts';

// The readers the eval compares: this layer, and the deterministic reader the booking dialogue
// used before it (interpretReply for replies, matchCatalog for a need), mapped onto the intents
// it could express. It never read a time, a language or any other intent.

export function understandingReader(catalogs: Catalogs): (r: CorpusRecord) => Reading {
  return (record) => understand(record.text, contextOf(record, catalogs));
}

export function previousReader(catalogs: Catalogs): (r: CorpusRecord) => Reading {
  return (record) => {
    const reading: Reading = { intent: 'unknown', language: 'en', services: [], time: null, choice: null };
    const reply = interpretReply(record.text, record.context.offered, record.context.timeZone);
    if (reply.kind === 'pick') return { ...reading, intent: 'choice', choice: reply.index };
    if (reply.kind !== 'other') return { ...reading, intent: reply.kind };
    const match = matchCatalog(
      catalogs[record.trade].map((c) => ({ ...c, active: true })),
      record.text,
    );
    if (match.decision.kind === 'match') {
      return { ...reading, intent: 'need', services: [{ id: match.decision.id, score: 1 }] };
    }
    return reading;
  };
}

/**
 * The optional language model. An answer the schema refuses (or none) reads as `unknown` and is
 * counted in `refused`, so the figures show both the shape and the judgement.
 */
export function modelReader(
  catalogs: Catalogs,
  model: ModelUnderstander,
): { read: (r: CorpusRecord) => Promise<Reading>; refused: () => number } {
  let refused = 0;
  return {
    refused: () => refused,
    async read(record) {
      const answer = await model.understand(record.text, contextOf(record, catalogs));
      if (answer !== null) return answer;
      refused++;
      return { intent: 'unknown', language: 'en', services: [], time: null, choice: null };
    },
  };
}
