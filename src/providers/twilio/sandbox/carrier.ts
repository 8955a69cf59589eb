import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../observability/logger.ts';
import { signTwilioRequest } from '../signature.ts';
import type { FaultPlan } from './faults.ts';
import {
  API_VERSION,
  type SandboxMessage,
  type SandboxMessageStatus,
  type Timestamp,
} from './message-resource.ts';
import { postSignedForm } from './signed-form-post.ts';
import { now } from './timestamp.ts';
import type { RecordedCallback, TrafficStore } from './traffic-store.ts';

// The carrier, as the sandbox plays it: an accepted message moves queued → sent → delivered (or
// undelivered/failed, when a fault says so) on timers, and each step is announced to the message's
// StatusCallback with a signed webhook, as Twilio does. Statuses move on their own timers whether
// or not callbacks are sent, so the "poll when the callback never came" path can be tested.

export interface SandboxDeliveryOptions {
  /** Delay from acceptance to `sent`. Default 5 ms. */
  sentAfterMs?: number;
  /** Delay from `sent` to `delivered` (or `undelivered`). Default 5 ms. */
  deliveredAfterMs?: number;
  /** Send signed status callbacks to each message's StatusCallback. Default true. */
  callbacks?: boolean;
  /** Send the final callback before the `sent` one, as carriers sometimes do. Default false. */
  outOfOrder?: boolean;
}

export function createCarrier(deps: {
  authToken: string;
  /** false: messages stay `queued` and no callback is ever sent. */
  delivery: SandboxDeliveryOptions | false | undefined;
  callbackTimeoutMs: number;
  store: TrafficStore;
  faults: FaultPlan;
  /** Aborted when the sandbox closes: pending steps and callbacks stop. */
  shutdown: AbortSignal;
  logger: Logger | undefined;
}): { deliver(message: SandboxMessage): Promise<void> } {
  const { authToken, store, faults, shutdown, logger } = deps;
  const delivery =
    deps.delivery === false
      ? null
      : {
          sentAfterMs: deps.delivery?.sentAfterMs ?? 5,
          deliveredAfterMs: deps.delivery?.deliveredAfterMs ?? 5,
          callbacks: deps.delivery?.callbacks ?? true,
          outOfOrder: deps.delivery?.outOfOrder ?? false,
        };

  function changeStatus(sid: string, status: SandboxMessageStatus, errorCode: number | null): void {
    store.trigger.messageStatusChanged({ sid, status, errorCode, at: new Date() });
  }

  async function sendCallback(
    message: SandboxMessage,
    status: SandboxMessageStatus,
    errorCode: number | null,
  ) {
    const url = message.statusCallback;
    if (url === null || delivery === null || !delivery.callbacks) return;
    const params: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: API_VERSION,
      From: message.from,
      MessageSid: message.sid,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
    };
    if (errorCode !== null) params.ErrorCode = String(errorCode);
    const signature = signTwilioRequest(authToken, url, params);
    const record = (outcome: RecordedCallback['outcome'], sentAt: Timestamp) =>
      store.trigger.callbackRecorded({
        callback: { messageSid: message.sid, status, url, params, signature, sentAt, outcome },
      });
    const sentAt = now();
    if (faults.takeCallbackDrop()) {
      record({ kind: 'dropped' }, sentAt);
      return;
    }
    try {
      const response = await postSignedForm({
        url,
        authToken,
        params,
        signature,
        signal: AbortSignal.any([shutdown, AbortSignal.timeout(deps.callbackTimeoutMs)]),
      });
      record({ kind: 'answered', status: response.status }, sentAt);
    } catch (err) {
      if (shutdown.aborted) return;
      // fetch reports "fetch failed" and keeps the socket error (ECONNREFUSED…) in `cause`.
      const cause =
        err instanceof Error && err.cause instanceof Error
          ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})`
          : '';
      const reason = `${err instanceof Error ? err.message : String(err)}${cause}`;
      logger?.warn({ messageSid: message.sid, status, reason }, 'twilio sandbox: status callback failed');
      record({ kind: 'error', message: reason }, sentAt);
    }
  }

  // Plays the carrier for one accepted message. Callbacks for one message are sent one after the
  // other, so "in order" really means the receiver sees `sent` answered before `delivered` leaves.
  async function deliver(message: SandboxMessage): Promise<void> {
    if (delivery === null) return;
    const failure = faults.deliveryFailureFor(message.to);
    const steps: Array<{ status: SandboxMessageStatus; errorCode: number | null; afterMs: number }> =
      failure?.status === 'failed'
        ? [{ status: 'failed', errorCode: failure.errorCode, afterMs: delivery.sentAfterMs }]
        : [
            { status: 'sent', errorCode: null, afterMs: delivery.sentAfterMs },
            failure === null
              ? { status: 'delivered', errorCode: null, afterMs: delivery.deliveredAfterMs }
              : { status: 'undelivered', errorCode: failure.errorCode, afterMs: delivery.deliveredAfterMs },
          ];
    const held: typeof steps = [];
    for (const step of steps) {
      await sleep(step.afterMs, undefined, { signal: shutdown });
      changeStatus(message.sid, step.status, step.errorCode);
      if (delivery.outOfOrder) held.unshift(step);
      else await sendCallback(message, step.status, step.errorCode);
    }
    for (const step of held) await sendCallback(message, step.status, step.errorCode);
  }

  return { deliver };
}
