import { performance } from 'node:perf_hooks';
import type { Timestamp } from './message-resource.ts';

/** A moment in the sandbox's traffic: monotonic for latencies, wall clock for Twilio's dates. */
export function now(): Timestamp {
  return { monotonicMs: performance.now(), date: new Date() };
}
