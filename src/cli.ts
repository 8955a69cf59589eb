import { type Command, CommanderError, InvalidArgumentError, program } from 'commander';
import { registerAppointments } from './cli/appointments.ts';
import { registerBackup } from './cli/backup.ts';
import { registerCalendars } from './cli/calendars.ts';
import { registerConversations } from './cli/conversations.ts';
import { registerDeadLetters } from './cli/dead-letters.ts';
import { registerMigrate } from './cli/migrate.ts';
import type { GlobalOptions } from './cli/options.ts';
import { registerPhone } from './cli/phone.ts';
import { registerReports } from './cli/reports.ts';
import { CliError } from './cli/server.ts';
import { registerTenants } from './cli/tenants.ts';
import { registerToken } from './cli/token.ts';
import { ConfigError, loadConfig } from './config.ts';

// `npm run nmc -- <command>`: operator tools against the running server, which it finds through
// the data directory's server.json (written by `npm start`), or --url. Each command group lives in
// src/cli/; `nmc --help` lists every command with its flags.

function urlArgument(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
    throw new InvalidArgumentError('an http(s) URL, e.g. http://127.0.0.1:3000');
  return value;
}

/** Every leaf command with its options, for the top-level help. */
function commandTree(root: Command): string {
  const lines: string[] = [];
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const name = `${prefix} ${sub.name()}`.trim();
      if (sub.commands.length > 0) {
        walk(sub, name);
        continue;
      }
      const args = sub.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
      const flags = sub.options.map((o) => (o.mandatory ? o.flags : `[${o.flags}]`));
      lines.push(`  nmc ${[name, ...args, ...flags].join(' ')}`);
      lines.push(`      ${sub.description()}`);
    }
  };
  walk(root, '');
  return lines.join('\n');
}

let globals: GlobalOptions | undefined;
const readGlobals = (): GlobalOptions => {
  if (globals === undefined) {
    const url = program.opts<{ url?: string }>().url;
    globals = { config: loadConfig(), url };
  }
  return globals;
};

program
  .name('nmc')
  .description("NeverMissCall's operator tools (npm run nmc -- <command>)")
  .option(
    '--url <url>',
    "the server's API URL (default: the running server's, read from $NMC_DATA_DIR/server.json)",
    urlArgument,
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerPhone(program, readGlobals);
registerConversations(program, readGlobals);
registerAppointments(program, readGlobals);
registerCalendars(program, readGlobals);
registerToken(program, readGlobals);
registerDeadLetters(program, readGlobals);
registerMigrate(program, readGlobals);
registerReports(program, readGlobals);
registerBackup(program, readGlobals);
registerTenants(program, readGlobals);
program.addHelpText('after', `\nEvery command (each also takes --help):\n${commandTree(program)}\n`);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed the help or the usage error already.
    process.exit(err.exitCode);
  }
  // One line: a configuration error names its variable; anything else starts with `nmc:`.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${err instanceof ConfigError ? '' : 'nmc: '}${message}\n`);
  if (!(err instanceof CliError || err instanceof ConfigError) && process.env.NMC_DEBUG) console.error(err);
  process.exit(1);
});
