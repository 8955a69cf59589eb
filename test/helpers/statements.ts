import type pg from 'pg';

/**
 * Hands `record` the text of every statement any client of `pool` sends from now on (a pool's own
 * query checks a client out too), named statements included. Each client is wrapped once.
 */
export function recordStatements(pool: pg.Pool, record: (sql: string) => void): void {
  const wrapped = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      record(typeof first === 'string' ? first : String((first as { text?: string }).text));
      return query(...args);
    };
  });
}
