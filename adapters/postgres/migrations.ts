import { giveBack, takeClient, type PgPool } from './pool.js';

/**
 * One step of the shared schema. Steps are applied once each, in the order given, and recorded by
 * name in `tidings_migrations`; a step is never edited after it shipped — a change is a new step.
 */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/**
 * Creates and migrates the schema at start. Several nodes starting at once are safe: each takes
 * a session advisory lock (one per schema) before it looks at what is applied, so exactly one
 * applies each step and the others find it done. Each step runs in its own transaction.
 * Returns the names of the steps this call applied.
 */
export const migrate = async (
  pool: PgPool,
  migrations: readonly Migration[],
): Promise<readonly string[]> => {
  const names = new Set<string>();
  for (const migration of migrations) {
    if (names.has(migration.name)) throw new Error(`migration ${migration.name} is listed twice`);
    names.add(migration.name);
  }
  const client = await takeClient(pool);
  const applied: string[] = [];
  try {
    await client.query(
      "SELECT pg_advisory_lock(hashtext('tidings-migrations:' || current_schema()))",
    );
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS tidings_migrations (
           name text PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const done = new Set(
        (await client.query<{ name: string }>('SELECT name FROM tidings_migrations')).rows.map(
          (row) => row.name,
        ),
      );
      for (const migration of migrations) {
        if (done.has(migration.name)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO tidings_migrations (name) VALUES ($1)', [migration.name]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${migration.name} failed: ${String(error)}`, { cause: error });
        }
        applied.push(migration.name);
      }
    } finally {
      await client.query(
        "SELECT pg_advisory_unlock(hashtext('tidings-migrations:' || current_schema()))",
      );
    }
  } finally {
    giveBack(client);
  }
  return applied;
};
