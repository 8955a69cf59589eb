import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ApiClient, components } from '../api-client/index.ts';
import type { GlobalOptions } from './options.ts';
import { answerOf, apiClient, CliError, resolveTarget } from './server.ts';
import { addTenantOptions, type TenantOptions, tenantToken } from './token.ts';

// `nmc calendars status|backfill|reconcile`: the tenant's calendar connections through the
// operator API's generated client (GET /api/v1/calendars, POST
// /api/v1/resources/:id/calendar/backfill|reconcile).
// Backfill and reconcile go resource by resource with a progress bar on stderr; the results are
// printed on stdout.

type Connection = components['schemas']['CalendarConnection'];

function daysArgument(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw new InvalidArgumentError('a whole number of days, 1 to 365');
  return days;
}

function uuidArgument(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    throw new InvalidArgumentError('a resource id (UUID)');
  return value;
}

/** `[####------] 2/5 label` on a terminal (redrawn), one line per step elsewhere. */
export function progressLine(done: number, total: number, label: string, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`;
}

function progress(done: number, total: number, label: string): void {
  const line = progressLine(done, total, label);
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}${done === total ? '\n' : ''}`);
  else process.stderr.write(`${line}\n`);
}

function ago(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3_600)} h ago`;
}

async function connectionsOf(api: ApiClient, resource?: string): Promise<Connection[]> {
  const { items } = await answerOf(api.GET('/api/v1/calendars'), 'GET /api/v1/calendars');
  const chosen = resource ? items.filter((c) => c.resource_id === resource) : items;
  if (resource && chosen.length === 0) throw new CliError(`resource ${resource} has no calendar connected`);
  return chosen;
}

export function registerCalendars(program: Command, globals: () => GlobalOptions): void {
  const calendars = program
    .command('calendars')
    .description("the tenant's calendar connections (Google Calendar, Jobber)");

  addTenantOptions(
    calendars
      .command('status')
      .description('every connection: push or poll, channel expiry, last sync and lag'),
  ).action(async (options: TenantOptions) => {
    const target = await resolveTarget(globals().config, globals().url);
    const api = apiClient(target, await tenantToken(target, options));
    const connections = await connectionsOf(api);
    if (connections.length === 0) {
      process.stdout.write(
        'no calendar connected (GET /api/v1/resources/:id/calendar/connect[?provider=jobber] connects one)\n',
      );
      return;
    }
    for (const c of connections) {
      process.stdout.write(`resource ${c.resource_id}  ${c.provider} ${c.account}  ${c.status}\n`);
      for (const cal of c.calendars) {
        const uses = [
          cal.blocks_time ? 'blocks time' : null,
          cal.receives_bookings ? 'receives bookings' : null,
        ]
          .filter(Boolean)
          .join(', ');
        process.stdout.write(
          `  ${cal.summary} (${uses || 'unused'})  ${cal.mode}  synced ${ago(cal.lag_seconds)}` +
            `  channel until ${cal.channel_expires_at ?? '-'}  ${cal.mirrored_blocks} busy blocks` +
            `${cal.sync_error ? `  error: ${cal.sync_error}` : ''}\n`,
        );
      }
    }
  });

  addTenantOptions(
    calendars
      .command('backfill')
      .description('refill the calendar mirrors from a full listing (all connected resources, or one)')
      .addOption(new Option('--resource <id>', 'only this resource').argParser(uuidArgument))
      .addOption(
        new Option('--days <n>', 'days ahead (default: the calendar.horizon_days policy)').argParser(
          daysArgument,
        ),
      ),
  ).action(async (options: TenantOptions & { resource?: string; days?: number }) => {
    const target = await resolveTarget(globals().config, globals().url);
    const api = apiClient(target, await tenantToken(target, options));
    const connections = await connectionsOf(api, options.resource);
    let done = 0;
    progress(done, connections.length, 'starting');
    const lines: string[] = [];
    for (const c of connections) {
      const { items } = await answerOf(
        api.POST('/api/v1/resources/{id}/calendar/backfill', {
          params: { path: { id: c.resource_id } },
          body: options.days ? { days: options.days } : {},
        }),
        `POST /api/v1/resources/${c.resource_id}/calendar/backfill`,
      );
      done += 1;
      const events = items.reduce((sum, i) => sum + i.events, 0);
      progress(done, connections.length, `resource ${c.resource_id}: ${events} events`);
      for (const i of items) {
        lines.push(
          `${c.resource_id} ${i.calendar_id}: ${i.events} events listed, ${i.busy} busy, ${i.pages} pages`,
        );
      }
    }
    process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : 'no calendar to backfill\n');
  });

  addTenantOptions(
    calendars
      .command('reconcile')
      .description('compare each calendar mirror with a fresh listing; report (or --repair) the drift')
      .addOption(new Option('--resource <id>', 'only this resource').argParser(uuidArgument))
      .addOption(new Option('--days <n>', 'days ahead to compare').default(14).argParser(daysArgument))
      .option('--repair', 'make the mirror match the listing'),
  ).action(async (options: TenantOptions & { resource?: string; days: number; repair?: boolean }) => {
    const target = await resolveTarget(globals().config, globals().url);
    const api = apiClient(target, await tenantToken(target, options));
    const connections = await connectionsOf(api, options.resource);
    let done = 0;
    let drifted = 0;
    const lines: string[] = [];
    for (const c of connections) {
      const { items } = await answerOf(
        api.POST('/api/v1/resources/{id}/calendar/reconcile', {
          params: { path: { id: c.resource_id } },
          body: { days: options.days, repair: options.repair === true },
        }),
        `POST /api/v1/resources/${c.resource_id}/calendar/reconcile`,
      );
      done += 1;
      progress(done, connections.length, `resource ${c.resource_id}`);
      for (const r of items) {
        const drift = r.drift.missing + r.drift.extra + r.drift.moved;
        if (drift > 0) drifted += 1;
        lines.push(
          `${c.resource_id} ${r.calendar_id}: ${r.mirrored} mirrored, ${r.listed} listed; ` +
            `missing ${r.drift.missing}, extra ${r.drift.extra}, moved ${r.drift.moved}${r.repaired ? ' (repaired)' : ''}`,
        );
      }
    }
    process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : 'no calendar to reconcile\n');
    // Drift left unrepaired is worth a non-zero exit for scripts.
    if (drifted > 0 && !options.repair) process.exitCode = 1;
  });
}
