// The faults a test has asked the sandbox to inject. Counted faults (`failNext`, `delayNext`,
// `dropNextCallbacks`) are consumed one per request or callback, first in, first out, so a test can
// script "two 429s then success". Per-number rules (`rejectTo`, `undeliverableTo`) last until cleared,
// the way a carrier-level opt-out or a dead handset does.

export interface HttpFault {
  status: number;
  /** Twilio error code; a plausible one for the status when omitted (20429, 20500, 21211…). */
  code?: number;
  message?: string;
}

export interface DeliveryFailure {
  status: 'undelivered' | 'failed';
  /** Twilio delivery error code, e.g. 30003 unreachable handset, 30007 filtered. */
  errorCode: number;
}

/** Which requests a targeted fault applies to: a method and a path pattern. */
export interface RequestMatch {
  method: string;
  path: RegExp;
}

export interface FaultPlan {
  /** The next request matching `match` answers this error (nothing is done). */
  failOn(match: RequestMatch, fault: HttpFault): void;
  /** The next request matching `match` is processed, then answered `ms` later. */
  delayOn(match: RequestMatch, ms: number): void;
  /** The targeted fault of this request, if one matches (consumed). */
  takeTargeted(method: string, path: string): { failure: HttpFault | null; delayMs: number };
  failNext(count: number, fault: HttpFault): void;
  delayNext(count: number, ms: number): void;
  rejectTo(number: string, code: number): void;
  undeliverableTo(number: string, failure: DeliveryFailure): void;
  dropNextCallbacks(count: number): void;
  clear(): void;
  takeFailure(): HttpFault | null;
  takeDelayMs(): number;
  rejectionCodeFor(to: string): number | null;
  deliveryFailureFor(to: string): DeliveryFailure | null;
  takeCallbackDrop(): boolean;
}

function assertCount(count: number, what: string): void {
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`${what}: count must be a non-negative integer`);
}

export function createFaultPlan(): FaultPlan {
  let failures: HttpFault[] = [];
  let delays: number[] = [];
  let callbackDrops = 0;
  const rejections = new Map<string, number>();
  const deliveryFailures = new Map<string, DeliveryFailure>();
  let targeted: { match: RequestMatch; failure: HttpFault | null; delayMs: number }[] = [];

  return {
    failOn(match, fault) {
      targeted.push({ match, failure: fault, delayMs: 0 });
    },
    delayOn(match, ms) {
      targeted.push({ match, failure: null, delayMs: ms });
    },
    takeTargeted(method, path) {
      const index = targeted.findIndex((t) => t.match.method === method && t.match.path.test(path));
      if (index < 0) return { failure: null, delayMs: 0 };
      const [hit] = targeted.splice(index, 1);
      return { failure: hit?.failure ?? null, delayMs: hit?.delayMs ?? 0 };
    },
    failNext(count, fault) {
      assertCount(count, 'failNext');
      if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) {
        throw new RangeError('failNext: status must be an HTTP error status (400..599)');
      }
      for (let i = 0; i < count; i += 1) failures.push(fault);
    },
    delayNext(count, ms) {
      assertCount(count, 'delayNext');
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('delayNext: ms must be a non-negative number');
      for (let i = 0; i < count; i += 1) delays.push(ms);
    },
    rejectTo(number, code) {
      rejections.set(number, code);
    },
    undeliverableTo(number, failure) {
      deliveryFailures.set(number, failure);
    },
    dropNextCallbacks(count) {
      assertCount(count, 'dropNextCallbacks');
      callbackDrops += count;
    },
    clear() {
      failures = [];
      delays = [];
      targeted = [];
      callbackDrops = 0;
      rejections.clear();
      deliveryFailures.clear();
    },
    takeFailure() {
      return failures.shift() ?? null;
    },
    takeDelayMs() {
      return delays.shift() ?? 0;
    },
    rejectionCodeFor(to) {
      return rejections.get(to) ?? null;
    },
    deliveryFailureFor(to) {
      return deliveryFailures.get(to) ?? null;
    },
    takeCallbackDrop() {
      if (callbackDrops === 0) return false;
      callbackDrops -= 1;
      return true;
    },
  };
}
