import { formatInstant } from '../../../domain/instant.ts';

// Values as they cross the driver: a Postgres error's code, timestamps out in UTC with `Z`.

export function pgCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

export function iso(d: Date): string {
  return formatInstant(d.getTime());
}

export function isoOrNull(d: Date | null): string | null {
  return d === null ? null : iso(d);
}
