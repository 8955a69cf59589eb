import { type Command, InvalidArgumentError } from 'commander';
import type { GlobalOptions } from './options.ts';
import { withProgress } from './progress.ts';
import { answerOf, apiClient, CliError, mintToken, resolveTarget } from './server.ts';

// `nmc tenants …` and `nmc reconcile`: provisioning for the platform's operators, through the staff
// API. `create` starts a business's convergence and (with --wait) follows it step by step;
// `reconcile` scans tenant by tenant with a progress bar and ends with a summary table.

function uuidArgument(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    throw new InvalidArgumentError('a UUID');
  return value;
}

function e164Argument(value: string): string {
  if (!/^\+[1-9]\d{6,14}$/.test(value)) throw new InvalidArgumentError('E.164, e.g. +14155550123');
  return value;
}

type StepLine = { step: string; status: string; attempts: number; last_error: string | null };

/** A fixed-width table: one header row, then the rows, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function stepsTable(steps: StepLine[]): string {
  return table(
    ['STEP', 'STATUS', 'ATTEMPTS', 'NOTE'],
    steps.map((s) => [s.step, s.status, String(s.attempts), s.last_error ?? '']),
  );
}

/** `[#####-----] 5/10`: a bar for work counted in items. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

export function registerTenants(program: Command, globals: () => GlobalOptions): void {
  const staffSession = async () => {
    const target = await resolveTarget(globals().config, globals().url);
    return apiClient(target, await mintToken(target, { role: 'STAFF', org: null }));
  };
  const tenants = program.command('tenants').description('provision and follow businesses (staff API)');

  const show = async (id: string) => {
    const api = await staffSession();
    return answerOf(
      api.GET('/api/staff/tenants/{tenantId}', { params: { path: { tenantId: id } } }),
      'GET /api/staff/tenants/:id',
    );
  };

  const follow = async (id: string, timeoutMs: number) => {
    let view = await show(id);
    const started = Date.now();
    const settled = () =>
      view.desired?.converged === true ||
      view.steps.some((s) => s.status === 'failed' || s.status === 'waiting');
    await withProgress(
      () => {
        const done = view.steps.filter((s) => s.status === 'done').length;
        const current = view.steps.find((s) => s.status !== 'done');
        return `converging ${progressBar(done, view.steps.length)} ${current ? `${current.step} ${current.status}` : ''}`;
      },
      (async () => {
        while (!settled() && Date.now() - started < timeoutMs) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          view = await show(id);
        }
      })(),
    );
    return view;
  };

  tenants
    .command('create')
    .description('provision a business: its desired state is stored and convergence starts')
    .requiredOption('--slug <slug>', 'lowercase letters, digits and dashes')
    .requiredOption('--name <name>', 'the business name callers see in texts')
    .requiredOption('--time-zone <zone>', 'IANA zone, e.g. America/Chicago')
    .requiredOption('--forwarding-phone <e164>', 'where calls ring first', e164Argument)
    .option('--org <id>', "the business's organisation at the identity provider")
    .option('--number <e164>', 'exactly this number', e164Argument)
    .option('--area-code <code>', 'any number in this area code')
    .option('--plan <plan>', 'starter or pro (billed by invoice)')
    .option('--template <trade>', 'plumbing, hvac, electrical or cleaning')
    .option('--no-wait', 'return once convergence has started')
    .action(
      async (options: {
        slug: string;
        name: string;
        timeZone: string;
        forwardingPhone: string;
        org?: string;
        number?: string;
        areaCode?: string;
        plan?: 'starter' | 'pro';
        template?: 'plumbing' | 'hvac' | 'electrical' | 'cleaning';
        wait: boolean;
      }) => {
        const api = await staffSession();
        const created = await answerOf(
          api.POST('/api/staff/tenants', {
            body: {
              slug: options.slug,
              name: options.name,
              time_zone: options.timeZone,
              auth_org_id: options.org ?? null,
              forwarding_phone: options.forwardingPhone,
              ...(options.number ? { twilio_number: options.number } : {}),
              ...(options.areaCode ? { area_code: options.areaCode } : {}),
              ...(options.plan ? { plan: options.plan } : {}),
              ...(options.template ? { template: options.template } : {}),
            },
          }),
          'POST /api/staff/tenants',
        );
        process.stdout.write(`tenant ${created.tenant.id} (${created.tenant.slug}) created; converging\n`);
        if (!options.wait) return;
        const view = await follow(created.tenant.id, 120_000);
        process.stdout.write(`${stepsTable(view.steps)}\n`);
        process.stdout.write(
          view.desired?.converged
            ? `converged: ${view.tenant.twilio_number ?? 'no number'}\n`
            : 'not converged yet: see `nmc tenants show`\n',
        );
      },
    );

  tenants
    .command('show')
    .description("a business's desired state and each convergence step")
    .argument('<id>', 'the tenant id', uuidArgument)
    .action(async (id: string) => {
      const view = await show(id);
      const d = view.desired;
      process.stdout.write(
        `${view.tenant.name} (${view.tenant.slug}) number ${view.tenant.twilio_number ?? '-'}${view.tenant.closed_at ? ` closed ${view.tenant.closed_at}` : ''}\n`,
      );
      process.stdout.write(
        d
          ? `desired v${d.version} ${d.spec.lifecycle}${d.converged ? ', converged' : ''}\n`
          : 'not provisioned by convergence\n',
      );
      if (view.steps.length > 0) process.stdout.write(`${stepsTable(view.steps)}\n`);
    });

  tenants
    .command('converge')
    .description('replay: failed steps start over and convergence runs now')
    .argument('<id>', 'the tenant id', uuidArgument)
    .action(async (id: string) => {
      const api = await staffSession();
      const result = await answerOf(
        api.POST('/api/staff/tenants/{tenantId}/converge', { params: { path: { tenantId: id } } }),
        'POST /api/staff/tenants/:id/converge',
      );
      process.stdout.write(`replayed ${result.replayed_steps} failed step(s)\n`);
      const view = await follow(id, 60_000);
      process.stdout.write(`${stepsTable(view.steps)}\n`);
    });

  tenants
    .command('backfill')
    .description(
      "rebuild our record of a tenant's number, Stripe customer and subscriptions, and campaign from the providers",
    )
    .argument('[id]', 'the tenant id (default: every tenant)', uuidArgument)
    .action(async (id: string | undefined) => {
      const api = await staffSession();
      const ids = id
        ? [id]
        : (await answerOf(api.GET('/api/staff/tenants'), 'GET /api/staff/tenants')).items.map((x) => x.id);
      for (const [i, tenantId] of ids.entries()) {
        const result = await withProgress(
          `backfilling ${i + 1}/${ids.length}`,
          answerOf(
            api.POST('/api/staff/tenants/{tenantId}/backfill', { params: { path: { tenantId } } }),
            'POST /api/staff/tenants/:id/backfill',
          ),
        );
        process.stdout.write(
          `${tenantId} number=${result.number ?? '-'} customer=${result.stripe_customer ?? '-'} subscriptions=${result.subscriptions} campaign=${result.campaign ?? '-'}${result.campaign_rechecked ? ' (re-checking)' : ''}\n`,
        );
      }
    });

  tenants
    .command('close')
    .description(
      'close a business: export, stop sending, release the number, cancel billing; delete after retention',
    )
    .argument('<id>', 'the tenant id', uuidArgument)
    .action(async (id: string) => {
      const api = await staffSession();
      const result = await answerOf(
        api.POST('/api/staff/tenants/{tenantId}/close', { params: { path: { tenantId: id } } }),
        'POST /api/staff/tenants/:id/close',
      );
      process.stdout.write(`closing (desired v${result.desired_version})\n`);
      const view = await follow(id, 60_000);
      process.stdout.write(`${stepsTable(view.steps)}\n`);
    });

  program
    .command('reconcile')
    .description("compare our state with the providers', report drift and repair the safe kinds")
    .option('--tenant <id>', 'one tenant only', uuidArgument)
    .option('--dry-run', 'report only: repair nothing, record nothing')
    .option('--no-repair', 'record the drift but repair nothing')
    .option('--repair-all', 'repair billing and number ownership too')
    .action(async (options: { tenant?: string; dryRun?: boolean; repair: boolean; repairAll?: boolean }) => {
      if (options.dryRun && options.repairAll)
        throw new CliError('--dry-run repairs nothing: drop --repair-all');
      const api = await staffSession();
      const ids = options.tenant
        ? [options.tenant]
        : (await answerOf(api.GET('/api/staff/tenants'), 'GET /api/staff/tenants')).items.map((t) => t.id);
      type Finding = {
        tenant_id: string;
        kind: string;
        subject: string;
        repaired: boolean;
        error: string | null;
      };
      const findings: Finding[] = [];
      let done = 0;
      let scanned = 0;
      await withProgress(
        () => `reconciling ${progressBar(done, ids.length)}`,
        (async () => {
          for (const id of ids) {
            const report = await answerOf(
              api.POST('/api/staff/reconcile', {
                body: {
                  tenant_id: id,
                  dry_run: options.dryRun === true,
                  repair: options.repair,
                  repair_all: options.repairAll === true,
                },
              }),
              'POST /api/staff/reconcile',
            );
            scanned += report.tenants;
            findings.push(...report.findings);
            done += 1;
          }
        })(),
      );
      const kinds = [...new Set(findings.map((f) => f.kind))].sort();
      process.stdout.write(
        `${table(
          ['KIND', 'FOUND', 'REPAIRED', 'FAILED'],
          kinds.map((kind) => {
            const of = findings.filter((f) => f.kind === kind);
            return [
              kind,
              String(of.length),
              String(of.filter((f) => f.repaired).length),
              String(of.filter((f) => f.error).length),
            ];
          }),
        )}\n`,
      );
      for (const f of findings) {
        process.stdout.write(
          `${f.tenant_id} ${f.kind} ${f.subject}${f.repaired ? ' repaired' : ''}${f.error ? ` error: ${f.error}` : ''}\n`,
        );
      }
      process.stdout.write(
        `${scanned} provisioned tenant(s) scanned, ${findings.length} drift finding(s)${options.dryRun ? ' (dry run)' : ''}\n`,
      );
    });
}
