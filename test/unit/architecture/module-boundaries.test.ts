import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md "Boundaries": a module queries only its own tables. SQL lives in
// src/persistence/repositories, one file per module; each file may name only its module's tables
// (and the shared infrastructure tables). Everything else in src/ reaches module data through those
// repository functions, so no other source file names a module table at all.

const ROOT = join(import.meta.dirname, '..', '..', '..', 'src');
const MODULE_PREFIXES = ['conv', 'sched', 'catalog', 'id', 'comp', 'bill', 'rep', 'prov'];

// The module tables, as the migrations create them.
const MODULE_TABLES = readdirSync(join(ROOT, 'persistence', 'migrations'))
  .flatMap((file) => [
    ...readFileSync(join(ROOT, 'persistence', 'migrations', file), 'utf8').matchAll(
      /CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g,
    ),
  ])
  .map((m) => m[1] ?? '')
  .filter((table) => MODULE_PREFIXES.includes(table.split('_')[0] ?? ''));

// Which module each repository file belongs to.
const REPOSITORY_MODULE: Record<string, string> = {
  'conversations.ts': 'conv',
  'messages.ts': 'conv',
  'calls.ts': 'conv',
  'scheduling/resources.ts': 'sched',
  'scheduling/reservation-rows.ts': 'sched',
  'scheduling/holds.ts': 'sched',
  'scheduling/appointments.ts': 'sched',
  'scheduling/booking-codes.ts': 'sched',
  'scheduling/sql-values.ts': 'sched',
  'scheduling/calendar-connections.ts': 'sched',
  'scheduling/calendar-mirror.ts': 'sched',
  'scheduling/jobber-webhooks.ts': 'sched',
  'catalog.ts': 'catalog',
  'tenants.ts': 'id',
  'users.ts': 'id',
  'user-alerts.ts': 'id',
  'alerts.ts': 'conv',
  'stream-tokens.ts': 'id',
  'web-sessions.ts': 'id',
  'notes.ts': 'conv',
  'quick-replies.ts': 'conv',
  'compliance.ts': 'comp',
  'billing.ts': 'bill',
  'scheduling/portal-links.ts': 'sched',
  'reports.ts': 'rep',
  'provisioning.ts': 'prov',
  'drift.ts': 'prov',
  'onboarding.ts': 'prov',
  'policy-values.ts': 'shared',
  'housekeeping.ts': 'shared',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path.endsWith('migrations') ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The code without its comments, so prose that names a table does not count. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function tablesIn(text: string): string[] {
  return MODULE_TABLES.filter((table) => new RegExp(`\\b${table}\\b`).test(text));
}

describe('module boundaries', () => {
  const files = sourceFiles(ROOT);

  it('finds the module tables in the migrations', () => {
    expect(MODULE_TABLES).toEqual(
      expect.arrayContaining(['conv_conversations', 'sched_reservations', 'id_tenants']),
    );
  });

  it('knows which module every repository file belongs to', () => {
    const repositories = files.filter((f) => f.includes(join('persistence', 'repositories')));
    for (const file of repositories) {
      expect(
        REPOSITORY_MODULE[relative(join(ROOT, 'persistence', 'repositories'), file)],
        file,
      ).toBeDefined();
    }
  });

  it('lets each repository name only its own module tables', () => {
    for (const file of files.filter((f) => f.includes(join('persistence', 'repositories')))) {
      const module = REPOSITORY_MODULE[relative(join(ROOT, 'persistence', 'repositories'), file)];
      const foreign = tablesIn(code(file)).filter(
        (table) => module === 'shared' || !table.startsWith(`${module}_`),
      );
      expect(foreign, `${relative(ROOT, file)} names another module's tables`).toEqual([]);
    }
  });

  it('keeps module tables out of every other source file', () => {
    const offenders = files
      .filter((f) => !f.includes(join('persistence', 'repositories')))
      .map((f) => ({ file: relative(ROOT, f), tables: tablesIn(code(f)) }))
      .filter((entry) => entry.tables.length > 0);
    expect(offenders).toEqual([]);
  });
});
