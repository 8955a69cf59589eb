import { type Command, Option } from 'commander';
import type { components } from '../api-client/index.ts';
import type { GlobalOptions } from './options.ts';
import { answerOf, apiClient, CliError, mintToken, type Role, resolveTarget, type Target } from './server.ts';

// `nmc token`: an operator token from the local dev issuer, for curl or the docs page.

type TenantSummary = components['schemas']['TenantSummary'];

/**
 * A tenant as platform staff see it through the API (its organisation and time zone), with a
 * STAFF token, which needs nothing but the dev issuer's key: the CLI never reads the database.
 */
export async function tenantBySlug(target: Target, slug: string): Promise<TenantSummary> {
  const staff = await mintToken(target, { role: 'STAFF', org: null });
  const page = await answerOf(apiClient(target, staff).GET('/api/staff/tenants'), 'GET /api/staff/tenants');
  const tenant = page.items.find((t) => t.slug === slug);
  if (!tenant) throw new CliError(`no tenant "${slug}" (known: ${page.items.map((t) => t.slug).join(', ')})`);
  return tenant;
}

async function tenantOrg(target: Target, slug: string): Promise<string> {
  const org = (await tenantBySlug(target, slug)).auth_org_id;
  if (!org) throw new CliError(`tenant "${slug}" has no auth organisation id`);
  return org;
}

export type TenantOptions = { tenant: string; org?: string; role: Role };

/** A token for a tenant's user (OWNER by default), for the operator commands. */
export async function tenantToken(target: Target, options: TenantOptions): Promise<string> {
  const org = options.org ?? (await tenantOrg(target, options.tenant));
  return mintToken(target, { role: options.role, org });
}

export function addTenantOptions(command: Command): Command {
  return command
    .addOption(new Option('--tenant <slug>', 'the tenant to act for').default('demo'))
    .addOption(new Option('--org <id>', "the tenant's auth organisation id (else looked up by --tenant)"))
    .addOption(new Option('--role <role>', 'the operator role').choices(['OWNER', 'TECH']).default('OWNER'));
}

export function registerToken(program: Command, globals: () => GlobalOptions): void {
  const token = program
    .command('token')
    .description("print an operator token from the local dev issuer (the server's data directory)")
    .option('--staff', "a platform STAFF token instead of a tenant user's")
    .option('--subject <id>', 'the token subject (the user id at the identity provider)');
  addTenantOptions(token).action(async (options: TenantOptions & { staff?: boolean; subject?: string }) => {
    const target = await resolveTarget(globals().config, globals().url);
    const role: Role = options.staff ? 'STAFF' : options.role;
    const org = role === 'STAFF' ? null : (options.org ?? (await tenantOrg(target, options.tenant)));
    const jwt = await mintToken(target, {
      role,
      org,
      ...(options.subject ? { subject: options.subject } : {}),
    });
    process.stdout.write(`${jwt}\n`);
  });
}
