import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { PinoPretty } from 'pino-pretty';
import { sanitize, sanitizeString } from './sanitize.ts';

export type { Logger };

export type LogFormat = 'pretty' | 'json';

/**
 * What a person reads on a terminal is a line per event in local time; anything else (a file, a
 * pipe, a log collector) gets one JSON object per line. An explicit LOG_FORMAT wins.
 */
export function chooseLogFormat(setting: LogFormat | undefined, isTerminal: boolean): LogFormat {
  return setting ?? (isTerminal ? 'pretty' : 'json');
}

/**
 * pino-pretty as an in-process stream, not a worker-thread transport: no second thread and its
 * heap, and lines stay in order with the process's own writes. Fields that identify a step
 * (ids, statuses) stay on the line; pid and hostname say nothing on one machine, and `caller`
 * (pino-pretty's source-location key, ours a phone number, redacted anyway) would read as a place.
 */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  // Loaded only when used: a server writing JSON never holds the printer in memory.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pretty({
    colorize: destination === undefined && process.stdout.isTTY === true,
    destination: destination ?? 1,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,caller',
    singleLine: true,
    sync: true,
  });
}

/**
 * A pino logger whose every line passes through `sanitize` before it is written (the formatters run
 * before the pretty printer sees the line). Without a destination it writes to stdout.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  format: LogFormat = 'json',
): Logger {
  return pino(
    {
      level,
      base: undefined,
      formatters: {
        log: (object) => sanitize(object) as Record<string, unknown>,
        bindings: (bindings) => sanitize(bindings) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((arg) => (typeof arg === 'string' ? sanitizeString(arg) : arg));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (err: unknown) => sanitize(err),
        error: (err: unknown) => sanitize(err),
      },
    },
    format === 'pretty' ? prettyStream(destination) : destination,
  );
}
