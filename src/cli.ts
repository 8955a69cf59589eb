import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { createPool } from './persistence/db.ts';
import { migrate } from './persistence/migrate.ts';
import { EMBEDDED_DATABASE, openDatabase } from './persistence/open-database.ts';
import { findTenantBySlug } from './persistence/repositories/tenants.ts';
import { openDevIssuerFor, staffOrgOf } from './providers/auth/operator-auth.ts';
import { SANDBOX_ACCOUNT, twilioAccountFrom } from './providers/twilio/account.ts';
import { createSimulatedPhone } from './providers/twilio/sandbox/phone.ts';
import { listDeadLetters, replayDeadLetters } from './runtime/outbox-dispatcher.ts';

// `npm run nmc -- <command>`: small operator tools.
//   migrate                                  apply migrations (embedded Postgres or DATABASE_URL)
//   token --tenant <slug> --role OWNER|TECH  print an operator token from the local dev issuer
//   token --staff                            print a platform staff token (a member of AUTH_STAFF_ORG_ID's org)
//   phone call|missed|sms --from <E.164> [--to <E.164>] [--body <text>]
//                                            act as a caller against the running system (sandbox)
//   dead-letters list|replay [--event <id> --tenant <id>]
//                                            outbox dead letters (replay one or all)

const USAGE = `usage: npm run nmc -- <migrate | token | phone | dead-letters> [options]`;

/** A connection to the running system's database: DATABASE_URL, or the embedded cluster's credentials. */
async function connectionString(config: Config): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const credentials = join(config.NMC_DATA_DIR, 'pg.credentials');
  const password = (await readFile(credentials, 'utf8').catch(() => '')).trim();
  if (!password)
    throw new Error('no embedded Postgres here yet: run `npm start` first (or set DATABASE_URL)');
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${config.EMBEDDED_PG_PORT}/${EMBEDDED_DATABASE}`;
}

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const [command, sub, ...rest] = argv;
  const { values } = parseArgs({
    args: command === 'phone' || command === 'dead-letters' ? rest : [sub ?? '', ...rest].filter(Boolean),
    options: {
      tenant: { type: 'string' },
      role: { type: 'string' },
      subject: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      body: { type: 'string' },
      event: { type: 'string' },
      staff: { type: 'boolean' },
    },
    allowPositionals: true,
  });

  switch (command) {
    case 'migrate': {
      const logger = createLogger(config.LOG_LEVEL);
      const database = await openDatabase(config, logger);
      const pool = createPool(database.url, { max: 2 });
      try {
        const applied = await migrate(pool);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
      } finally {
        await pool.end();
        await database.stop();
      }
      return;
    }
    case 'token': {
      if (config.AUTH_JWKS_URL)
        throw new Error('AUTH_* is set: tokens come from your identity provider, not the dev issuer');
      const role = values.staff ? 'STAFF' : (values.role ?? 'OWNER').toUpperCase();
      if (!['OWNER', 'TECH', 'STAFF'].includes(role)) throw new Error('--role must be OWNER or TECH (or --staff)');
      let org = staffOrgOf(config);
      if (role !== 'STAFF') {
        const slug = values.tenant ?? 'demo';
        const client = new pg.Client({ connectionString: await connectionString(config) });
        await client.connect();
        try {
          org = (await findTenantBySlug(client, slug))?.auth_org_id ?? null;
          if (!org) throw new Error(`no tenant "${slug}" with an auth org id`);
        } finally {
          await client.end();
        }
      }
      const issuer = await openDevIssuerFor(config);
      const claimRole = role === 'OWNER' ? 'org:admin' : 'org:member';
      const token = await issuer.mint({
        subject: values.subject ?? `dev-${role.toLowerCase()}`,
        org,
        role: claimRole,
      });
      process.stdout.write(`${token}\n`);
      return;
    }
    case 'phone': {
      const account = twilioAccountFrom(config);
      const phone = createSimulatedPhone({
        appBaseUrl: `http://${config.HOST}:${config.PORT}`,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        authToken: account.sandbox ? SANDBOX_ACCOUNT.authToken : account.authToken,
        accountSid: account.accountSid,
      });
      const from = values.from;
      const to = values.to ?? '+15005550006';
      if (!from) throw new Error('--from <E.164> is required');
      if (sub === 'call' || sub === 'missed') {
        const result = await phone.missedCall({ from, to });
        process.stdout.write(
          `missed call ${result.callSid}: dial-status answered ${result.dialStatus.status}\n`,
        );
      } else if (sub === 'sms') {
        const result = await phone.sms({ from, to, body: values.body ?? '' });
        process.stdout.write(`sms ${result.messageSid}: ${result.response.status}\n`);
      } else {
        throw new Error('phone call|missed|sms --from <E.164> [--to <E.164>] [--body <text>]');
      }
      return;
    }
    case 'dead-letters': {
      const pool = createPool(await connectionString(config), { max: 2 });
      try {
        if (sub === 'replay') {
          const which =
            values.event && values.tenant
              ? { tenantId: values.tenant, eventId: values.event }
              : ('all' as const);
          process.stdout.write(`replayed ${await replayDeadLetters(pool, which)}\n`);
        } else {
          for (const row of await listDeadLetters(pool)) {
            process.stdout.write(
              `${row.dead_at.toISOString()} ${row.tenant_id} ${row.event_id} ${row.event_name} attempts=${row.attempts} ${row.last_error}\n`,
            );
          }
        }
      } finally {
        await pool.end();
      }
      return;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `nmc: ${(err as Error).message}`}\n`);
  process.exit(1);
});
