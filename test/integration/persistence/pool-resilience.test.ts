import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/persistence/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// Postgres going away under a checked-out client (a restart, a failover) must not crash the
// process: the error surfaces on that client's next query, and the pool recovers.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe('pool', () => {
  it('survives the connection of a checked-out client being terminated', async () => {
    const pool = createPool(database.url, { max: 2 });
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await database.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release(true);
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await pool.end();
  });
});
