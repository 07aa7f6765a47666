import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import pg from 'pg';
import * as E from 'fp-ts/lib/Either.js';
import type { AppendResult, EventStore, NewEvent } from '../../domain/shared/eventStore.js';
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

/**
 * For a suite's `before`: skips it, printing which suite and why, when no server is there and none
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
  const suite =
    context.currentTest?.parent?.fullTitle() ??
    context.test?.parent?.fullTitle() ??
    'a PostgreSQL suite';
  console.log(
    `  ${suite} skipped: no PostgreSQL at ${TEST_DATABASE_URL} (${problem}); set TIDINGS_TEST_DATABASE_URL to run it`,
  );
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

/** A `TIDINGS_DATABASE_URL` whose connections use `schema` (the server's own setting takes it as it is). */
export const databaseUrlOf = (schema: string): string => {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
};

/**
 * A TCP relay to the test server, to stand for the network or the database failing: `freeze()`
 * stops answering (drops everything, as a cut network does); `cut()` closes every connection and
 * refuses new ones (as a stopped server does) until `restore()`.
 */
export class PgRelay {
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  private refusing = false;
  private readonly server = net.createServer((client) => {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const target = new URL(TEST_DATABASE_URL);
    const upstream = net.connect(Number(target.port === '' ? 5432 : target.port), target.hostname);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('data', (chunk) => {
      if (!this.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.frozen) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no relay port');
    return address.port;
  }

  /** The relay's URL for `schema`: the test server's, through the relay. */
  urlOf(port: number, schema: string): string {
    const url = new URL(databaseUrlOf(schema));
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  }

  freeze(): void {
    this.frozen = true;
  }

  /** Closes every connection and refuses new ones, as a stopped server does. */
  cut(): void {
    this.refusing = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Accepts connections again after {@link cut}. */
  restore(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}

/** An event of `type` with `data`, as the PostgreSQL store tests append them. */
export const testEvent = (type: string, data: unknown = {}): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: {
    occurredAt: '2026-12-07T10:00:00.000Z',
    actor: { kind: 'system', id: 'pg-tests' },
    correlationId: 'c',
    causationId: 'c',
    schemaVersion: 1,
  },
});

/** Appends one event of `type` to `stream` at any revision; fails the test on a conflict. */
export const appendAny = async (
  store: EventStore,
  stream: string,
  type: string,
): Promise<AppendResult> => {
  const outcome = await store.appendToStream(stream, [testEvent(type, { stream })], {
    expectedRevision: 'any',
  });
  if (E.isLeft(outcome)) throw new Error(`conflict on ${stream}`);
  return outcome.right;
};
