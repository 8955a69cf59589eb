// One clock for the whole run: phases ask how much time is left before they start and shorten (or
// skip) themselves, so `npm run bench` always ends on its own well inside its ten minutes.

export class Deadline {
  readonly startedAt = Date.now();
  private readonly endsAt: number;

  constructor(endsAt: number) {
    this.endsAt = endsAt;
  }

  static in(ms: number): Deadline {
    return new Deadline(Date.now() + ms);
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  /** `wantedMs`, or what is left if less, keeping `reserveMs` for the phases after this one. */
  budget(wantedMs: number, reserveMs = 0): number {
    return Math.max(0, Math.min(wantedMs, this.remainingMs() - reserveMs));
  }
}

export class DeadlineSkip extends Error {
  override name = 'DeadlineSkip';
}
