import { type Command, InvalidArgumentError, Option } from 'commander';
import { DateTime } from 'luxon';
import type { components } from '../api-client/index.ts';
import type { GlobalOptions } from './options.ts';
import { answerOf, apiClient, CliError, mintToken, resolveTarget } from './server.ts';
import { addTenantOptions, type TenantOptions, tenantBySlug } from './token.ts';

// `nmc appointments list --day 2026-12-04`: the days are the tenant's local days, turned into the
// [from, to) instants the API takes with the tenant's time zone (read through the staff API).

type Appointment = components['schemas']['Appointment'];

function dayArgument(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !DateTime.fromISO(value).isValid)
    throw new InvalidArgumentError('a date as YYYY-MM-DD');
  return value;
}

function daysArgument(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > 62)
    throw new InvalidArgumentError('a whole number of days, 1 to 62');
  return days;
}

export function registerAppointments(program: Command, globals: () => GlobalOptions): void {
  const appointments = program
    .command('appointments')
    .description("the tenant's appointments (operator API)");
  addTenantOptions(
    appointments
      .command('list')
      .description("appointments on the tenant's local day(s), in local time")
      .addOption(
        new Option('--day <date>', 'the first local day (YYYY-MM-DD)')
          .default('today')
          .argParser(dayArgument),
      )
      .addOption(new Option('--days <n>', 'how many days').default(1).argParser(daysArgument)),
  ).action(async (options: TenantOptions & { day: string; days: number }) => {
    const target = await resolveTarget(globals().config, globals().url);
    const tenant = await tenantBySlug(target, options.tenant);
    const zone = tenant.time_zone;
    const first = (
      options.day === 'today' ? DateTime.now().setZone(zone) : DateTime.fromISO(options.day, { zone })
    ).startOf('day');
    const from = first.toUTC().toISO();
    const to = first.plus({ days: options.days }).toUTC().toISO();
    const org = options.org ?? tenant.auth_org_id;
    if (!org) throw new CliError(`tenant "${options.tenant}" has no auth organisation id`);
    const api = apiClient(target, await mintToken(target, { role: options.role, org }));
    const items: Appointment[] = [];
    let cursor: string | undefined;
    for (;;) {
      const query = { from: from ?? '', to: to ?? '', limit: 200, ...(cursor ? { cursor } : {}) };
      const page = await answerOf(
        api.GET('/api/v1/appointments', { params: { query } }),
        'GET /api/v1/appointments',
      );
      items.push(...page.items);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    const span =
      options.days === 1
        ? first.toISODate()
        : `${first.toISODate()} – ${first.plus({ days: options.days - 1 }).toISODate()}`;
    process.stdout.write(
      `${items.length} appointment${items.length === 1 ? '' : 's'} on ${span} (${zone})\n`,
    );
    for (const a of items) {
      const start = DateTime.fromISO(a.start, { zone });
      const end = DateTime.fromISO(a.end, { zone });
      const service = a.service_name ?? '';
      const customer = a.customer ? `${a.customer.name ?? ''} ${a.customer.phone}`.trim() : '';
      process.stdout.write(
        `${start.toFormat('ccc LLL d HH:mm')}–${end.toFormat('HH:mm')}  ${a.status.padEnd(9)} ${[service, customer].filter(Boolean).join('  ')}  ${a.id}${a.conversation_id ? `  conversation ${a.conversation_id}` : ''}\n`,
      );
    }
  });
}
