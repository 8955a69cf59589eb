import pg from 'pg';

// Counts every SQL statement sent through `pg` in this process (the app's pools, pg-boss, the
// baselines): one statement is one round trip to the server, the unit the baselines are made of
// (the insert transaction is 3). Statements per operation explain most of a throughput ratio.

let statements = 0;
let installed = false;

export function installSqlCounter(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    statements += 1;
    return original.apply(this, args);
  };
}

export function sqlStatements(): number {
  return statements;
}
