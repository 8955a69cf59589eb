import type { Command } from 'commander';
import { createLogger } from '../observability/logger.ts';
import { createPool } from '../persistence/db.ts';
import { migrate } from '../persistence/migrate.ts';
import { openDatabase } from '../persistence/open-database.ts';
import type { GlobalOptions } from './options.ts';

// `nmc migrate`: apply migrations without starting the server (embedded Postgres or DATABASE_URL).

export function registerMigrate(program: Command, globals: () => GlobalOptions): void {
  program
    .command('migrate')
    .description('apply database migrations (embedded Postgres under NMC_DATA_DIR, or DATABASE_URL)')
    .action(async () => {
      const { config } = globals();
      const database = await openDatabase(config, createLogger(config.LOG_LEVEL));
      const pool = createPool(database.url, { max: 2 });
      try {
        const applied = await migrate(pool);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
      } finally {
        await pool.end();
        await database.stop();
      }
    });
}
