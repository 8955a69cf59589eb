import pg from 'pg';

// Every persistence function takes a `Queryable`: a pool or a client that is already inside a
// transaction. `inTransaction` owns BEGIN/COMMIT/ROLLBACK, so the snapshot, the messages, the
// outbox rows and the jobs of one change are written with the same client.

export type Queryable = Pick<pg.PoolClient, 'query'>;
export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// Postgres `bigint` (int8) as number: counters and sequence values here stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

export function createPool(
  connectionString: string,
  options: { max?: number; applicationName?: string } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 20,
    // A connection costs ~9 ms to open (a backend fork and SCRAM); after a quiet spell the first
    // missed calls would each pay it on their way to the first text. A few stay open for them.
    min: Math.min(4, options.max ?? 20),
    application_name: options.applicationName ?? 'nevermisscall',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its connection (Postgres restarted) must not crash the process. Idle clients
  // report it on the pool, which drops them; a checked-out client reports it on itself, and the
  // query in flight (if any) fails on its own, becoming a 503 for the request. The next query reconnects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/**
 * `inTransaction` whose BEGIN carries one read in the same round trip (both go as one simple query,
 * so the read takes no parameters: `read` builds it with the client's literal escaping). The
 * read's rows are handed to `fn`.
 */
export function inTransactionReading<T, R extends pg.QueryResultRow>(
  pool: pg.Pool,
  read: (escapeLiteral: (value: string) => string) => string,
  fn: (client: pg.PoolClient, rows: R[]) => Promise<T>,
): Promise<T> {
  return transaction(
    pool,
    async (client) => {
      const results = (await client.query(
        `BEGIN; ${read((value) => client.escapeLiteral(value))}`,
      )) as unknown as pg.QueryResult<R>[];
      return results[1]?.rows ?? [];
    },
    fn,
  );
}

export function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return transaction(
    pool,
    (client) => client.query('BEGIN'),
    (client) => fn(client),
  );
}

// One client from connect to release: `begin` opens the transaction (and may read with it), `fn`
// works in it, COMMIT on success, ROLLBACK on any failure (BEGIN's included).
async function transaction<T, B>(
  pool: pg.Pool,
  begin: (client: pg.PoolClient) => Promise<B>,
  fn: (client: pg.PoolClient, begun: B) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    const result = await fn(client, await begin(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
