import { type DestinationStream, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
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
 * (ids, statuses) stay on the line; pid and hostname say nothing on one machine.
 */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return PinoPretty({
    colorize: destination === undefined && process.stdout.isTTY === true,
    destination: destination ?? 1,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
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
