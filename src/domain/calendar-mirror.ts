// Comparing a calendar's mirror (the busy blocks we keep) with what the provider lists now, and
// finding the appointments a new busy block overlaps. Pure: the runtime reads and writes.

export type Block = { eventId: string; start: number; end: number };

export type MirrorDrift = {
  /** Busy in the provider, absent from the mirror. */
  missing: Block[];
  /** In the mirror, no longer busy in the provider. */
  extra: Block[];
  /** In both, at other times: the provider's times. */
  moved: Block[];
};

export function compareMirror(mirror: readonly Block[], fresh: readonly Block[]): MirrorDrift {
  const kept = new Map(mirror.map((b) => [b.eventId, b]));
  const missing: Block[] = [];
  const moved: Block[] = [];
  for (const block of fresh) {
    const mine = kept.get(block.eventId);
    kept.delete(block.eventId);
    if (!mine) missing.push(block);
    else if (mine.start !== block.start || mine.end !== block.end) moved.push(block);
  }
  return { missing, extra: [...kept.values()], moved };
}

export function driftCount(drift: MirrorDrift): number {
  return drift.missing.length + drift.extra.length + drift.moved.length;
}

export type Booked = { id: string; start: number; end: number };

/** Pairs of (appointment, block) that overlap: half-open intervals, touching ends do not. */
export function overlapping(
  appointments: readonly Booked[],
  blocks: readonly Block[],
): Array<{ appointment: Booked; block: Block }> {
  const pairs: Array<{ appointment: Booked; block: Block }> = [];
  for (const block of blocks) {
    for (const appointment of appointments) {
      if (appointment.start < block.end && block.start < appointment.end) pairs.push({ appointment, block });
    }
  }
  return pairs;
}
