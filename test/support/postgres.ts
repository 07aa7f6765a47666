import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openPool, type PgPool } from '../../adapters/postgres/pool.js';

/**
 * The PostgreSQL server tests run against. `.ci/run` sets TIDINGS_TEST_DATABASE_URL, and then a
 * server that cannot be reached fails the run; without it the machine's default server is tried
 * (trust authentication on 127.0.0.1, database `test`), and suites skip when there is none.
 */
const configured = process.env['TIDINGS_TEST_DATABASE_URL'];
export const TEST_DATABASE_URL =
  configured === undefined || configured === ''
    ? 'postgres://postgres@127.0.0.1:5432/test'
    : configured;

let reachable: Promise<string | undefined> | undefined;

/** Undefined when the server answers; else why not. */
const probe = async (): Promise<string | undefined> => {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 3_000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
};

let skipPrinted = false;

/**
 * For a suite's `before`: skips it (one line printed per run) when no server is there and none
 * was required; throws when TIDINGS_TEST_DATABASE_URL names a server that cannot be reached.
 */
export async function requirePostgres(context: Mocha.Context): Promise<void> {
  reachable ??= probe();
  const problem = await reachable;
  if (problem === undefined) return;
  if (configured !== undefined && configured !== '') {
    throw new Error(
      `TIDINGS_TEST_DATABASE_URL is set but PostgreSQL cannot be reached: ${problem}`,
    );
  }
  if (!skipPrinted) {
    skipPrinted = true;
    console.log(
      `  PostgreSQL suites skipped: no server at ${TEST_DATABASE_URL} (${problem}); set TIDINGS_TEST_DATABASE_URL to run them`,
    );
  }
  context.skip();
}

/** A schema of its own for one test or suite, dropped with everything in it by `drop()`. */
export interface TestSchema {
  readonly url: string;
  readonly schema: string;
  /** A new pool whose connections use this schema; `drop()` ends every pool made here. */
  pool(max?: number): PgPool;
  drop(): Promise<void>;
}

export const createTestSchema = async (): Promise<TestSchema> => {
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const pools: PgPool[] = [];
  return {
    url: TEST_DATABASE_URL,
    schema,
    pool: (max = 10) => {
      const pool = openPool(TEST_DATABASE_URL, { schema, max });
      pools.push(pool);
      return pool;
    },
    drop: async () => {
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
};
