import { type Command, InvalidArgumentError } from 'commander';
import type { GlobalOptions } from './options.ts';
import { withProgress } from './progress.ts';
import { answerOf, apiClient, CliError, mintToken, resolveTarget } from './server.ts';

// `nmc dead-letters …`: outbox events that failed delivery, and convergence steps that failed for
// good (a provider's refusal, or retries used up), through the staff API.

function uuidArgument(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    throw new InvalidArgumentError('a UUID');
  return value;
}

export function registerDeadLetters(program: Command, globals: () => GlobalOptions): void {
  const deadLetters = program
    .command('dead-letters')
    .description('outbox events that failed delivery (staff API)');
  const staffSession = async () => {
    const target = await resolveTarget(globals().config, globals().url);
    return apiClient(target, await mintToken(target, { role: 'STAFF', org: null }));
  };

  deadLetters
    .command('list')
    .description('list them, newest first')
    .action(async () => {
      const api = await staffSession();
      const page = await answerOf(api.GET('/api/staff/dead-letters'), 'GET /api/staff/dead-letters');
      if (page.items.length === 0) process.stdout.write('no dead letters\n');
      for (const d of page.items) {
        process.stdout.write(
          `${d.dead_at} ${d.tenant_id} ${d.event_id} ${d.event_name} attempts=${d.attempts} ${d.last_error}\n`,
        );
      }
      const steps = await answerOf(
        api.GET('/api/staff/provisioning/failed-steps'),
        'GET /api/staff/provisioning/failed-steps',
      );
      if (steps.items.length === 0) process.stdout.write('no failed provisioning steps\n');
      for (const s of steps.items) {
        process.stdout.write(
          `${s.failed_at} ${s.tenant_id} provisioning:${s.step} attempts=${s.attempts} ${s.last_error ?? ''}\n`,
        );
      }
    });

  deadLetters
    .command('replay-steps')
    .description("start failed provisioning steps over: one tenant's (--tenant), or every tenant's")
    .option('--tenant <id>', 'the tenant id', uuidArgument)
    .action(async (options: { tenant?: string }) => {
      const api = await staffSession();
      let tenants: string[];
      if (options.tenant) tenants = [options.tenant];
      else {
        const steps = await answerOf(
          api.GET('/api/staff/provisioning/failed-steps'),
          'GET /api/staff/provisioning/failed-steps',
        );
        tenants = [...new Set(steps.items.map((s) => s.tenant_id))];
      }
      let replayed = 0;
      for (const [i, tenantId] of tenants.entries()) {
        const result = await withProgress(
          `replaying tenant ${i + 1}/${tenants.length}`,
          answerOf(
            api.POST('/api/staff/tenants/{tenantId}/converge', { params: { path: { tenantId } } }),
            `POST /api/staff/tenants/${tenantId}/converge`,
          ),
        );
        replayed += result.replayed_steps;
      }
      process.stdout.write(`replayed ${replayed} step(s) of ${tenants.length} tenant(s)\n`);
    });

  deadLetters
    .command('replay')
    .description('replay one dead letter (--tenant and --event), or all')
    .option('--tenant <id>', "the event's tenant id", uuidArgument)
    .option('--event <id>', 'the event id', uuidArgument)
    .action(async (options: { tenant?: string; event?: string }) => {
      if ((options.tenant === undefined) !== (options.event === undefined))
        throw new CliError('give both --tenant and --event, or neither (replays all)');
      const api = await staffSession();
      const body =
        options.tenant && options.event
          ? { tenant_id: options.tenant, event_id: options.event }
          : { all: true as const };
      const result = await withProgress(
        'replaying dead letters',
        answerOf(api.POST('/api/staff/dead-letters/replay', { body }), 'POST /api/staff/dead-letters/replay'),
      );
      process.stdout.write(`replayed ${result.replayed}\n`);
    });
}
