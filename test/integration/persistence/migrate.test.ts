import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/persistence/db.ts';
import { loadMigrations, migrate, migrationsApplied } from '../../../src/persistence/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase({ empty: true });
});
afterAll(async () => {
  await database.drop();
});

describe('migrations', () => {
  it('two runners at once apply each migration exactly once; a third run is a no-op', async () => {
    const other = createPool(database.url, { max: 2 });
    expect(await migrationsApplied(database.pool)).toBe(false);
    const [first, second] = await Promise.all([migrate(database.pool), migrate(other)]);
    await other.end();
    const all = (await loadMigrations()).map((m) => m.name);
    expect([...first, ...second].sort()).toEqual(all.sort());
    expect(await migrate(database.pool)).toEqual([]);
    const { rows } = await database.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(all.map((n) => n.slice(0, 4)));
    expect(await migrationsApplied(database.pool)).toBe(true);
  });

  it('refuses a migration whose text changed after it was applied', async () => {
    const migrations = await loadMigrations();
    const changed = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    await expect(migrate(database.pool, changed)).rejects.toThrow(/changed after it was applied/);
  });

  it('keeps tenant_id first in a primary or unique key of every tenant-owned table', async () => {
    const { rows } = await database.pool.query<{ table_name: string; keys: string[] }>(`
      SELECT c.relname AS table_name,
             array_agg(a.attname ORDER BY a.attname) FILTER (WHERE a.attnum = i.indkey[0]) AS keys
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      JOIN pg_attribute t ON t.attrelid = c.oid AND t.attname = 'tenant_id'
      JOIN pg_index i ON i.indrelid = c.oid AND (i.indisprimary OR i.indisunique)
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE c.relkind = 'r'
      GROUP BY c.relname`);
    const { rows: withTenant } = await database.pool.query<{ table_name: string }>(`
      SELECT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'tenant_id' AND table_name <> 'webhook_events'`);
    for (const { table_name } of withTenant) {
      const row = rows.find((r) => r.table_name === table_name);
      expect(row?.keys ?? [], `${table_name} has no key starting with tenant_id`).toContain('tenant_id');
    }
  });

  it('has btree_gist enabled', async () => {
    const { rowCount } = await database.pool.query("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'");
    expect(rowCount).toBe(1);
  });
});
