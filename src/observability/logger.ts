import { type DestinationStream, type Logger, pino } from 'pino';
import { sanitize, sanitizeString } from './sanitize.ts';

export type { Logger };

/** A pino logger whose every line passes through `sanitize` before it is written. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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
    destination,
  );
}
