import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { OUTBOX_CHANNEL } from './outbox.ts';

// What runs work "when the outbox has something new": a dedicated connection LISTENs for the NOTIFY
// every outbox write sends at commit, a slow poll is the backstop (and reconnects the listener after
// it lost its connection), and runs never overlap: a wake-up during a run makes one more run after
// it. Used by the outbox dispatcher and the live-stream hub.

export type OutboxWakeOptions = {
  connectionString: string;
  applicationName: string;
  pollIntervalMs: number;
  /**
   * How long a NOTIFY waits before it starts a run, so the commits of a burst are handled in one run
   * (one batch, a few statements) rather than one run each. 0: at once.
   */
  coalesceMs?: number;
  logger: Logger;
  /** One pass of the work; called again when woken while it ran. */
  run: () => Promise<void>;
};

export type OutboxWake = {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs the work now, or once more after the current run. */
  kick(): void;
  running(): boolean;
};

export function createOutboxWake(options: OutboxWakeOptions): OutboxWake {
  let active = false;
  let listener: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let coalescing: NodeJS.Timeout | null = null;

  function notified(): void {
    const delay = options.coalesceMs ?? 0;
    if (delay <= 0) {
      kick();
      return;
    }
    if (coalescing || !active) return;
    coalescing = setTimeout(() => {
      coalescing = null;
      kick();
    }, delay);
  }

  function kick(): void {
    if (!active) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await options.run();
        } while (again && active);
      } catch (err) {
        options.logger.error({ err, worker: options.applicationName }, 'outbox work failed');
      } finally {
        running = null;
      }
    })();
  }

  async function listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: options.applicationName,
    });
    client.on('error', (err) => {
      options.logger.warn(
        { err, worker: options.applicationName },
        'outbox listener lost its connection; polling',
      );
      if (listener === client) listener = null;
      client.end().catch(() => undefined);
    });
    client.on('notification', () => notified());
    await client.connect();
    try {
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (!active) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
  }

  function reconnect(): void {
    if (!active || listener || connecting) return;
    connecting = listen()
      .then(() => kick())
      .catch((err: unknown) =>
        options.logger.warn({ err, worker: options.applicationName }, 'outbox listener could not reconnect'),
      )
      .finally(() => {
        connecting = null;
      });
  }

  return {
    async start() {
      if (active) return;
      active = true;
      try {
        await listen();
      } catch (err) {
        active = false;
        throw err;
      }
      timer = setInterval(() => {
        reconnect();
        kick();
      }, options.pollIntervalMs);
      timer.unref();
      kick();
    },
    async stop() {
      active = false;
      if (timer) clearInterval(timer);
      timer = null;
      if (coalescing) clearTimeout(coalescing);
      coalescing = null;
      await connecting;
      await running;
      await listener?.end().catch(() => undefined);
      listener = null;
    },
    kick,
    running: () => active,
  };
}
