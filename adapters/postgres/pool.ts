import pg from 'pg';

/** A pool of connections to the deployment's PostgreSQL database (`TIDINGS_DATABASE_URL`). */
export type PgPool = pg.Pool;
/** One connection taken from a {@link PgPool}, for a transaction. */
export type PgClient = pg.PoolClient;

export interface PoolOptions {
  /** Tables live in this schema (created if missing); the URL's default search path otherwise. */
  readonly schema?: string;
  /** Connections at most; default 10. */
  readonly max?: number;
  /** How long to wait for a connection before failing, in ms; default 5,000. */
  readonly connectTimeoutMs?: number;
}

/** Longest a statement may go unanswered, and an append may wait for the sequencer lock. */
const QUERY_TIMEOUT_MS = 15_000;
/** Longest a transaction may sit idle before the server ends it. */
const IDLE_IN_TRANSACTION_MS = 10_000;

/** A schema name that can be written into SQL unquoted (tests make one per run). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a pool on `url`. Errors of idle connections (the server restarting, a network cut) are
 * reported to `onIdleError` instead of crashing the process: the pool replaces the connection, and
 * the next query that fails tells its caller.
 */
export const openPool = (
  url: string,
  options: PoolOptions = {},
  onIdleError: (error: Error) => void = () => undefined,
): PgPool => {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(`not a plain schema name: ${options.schema}`);
  }
  const config: pg.PoolConfig = {
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // A connection that a cut network left open is found out, and a statement that gets no
    // answer fails instead of holding its caller (and the log's sequencer lock) for ever.
    keepAlive: true,
    query_timeout: QUERY_TIMEOUT_MS,
  };
  // The server ends a transaction whose client went quiet (a frozen node holding the sequencer
  // lock), and an append waits a bounded time for that lock. The settings go with the connection's
  // start-up (the URL's own `options` kept), so no statement is needed on each new connection.
  const settings: readonly (readonly [string, string | number])[] = [
    ['idle_in_transaction_session_timeout', IDLE_IN_TRANSACTION_MS],
    ['lock_timeout', QUERY_TIMEOUT_MS],
    ...(options.schema === undefined ? [] : [['search_path', options.schema] as const]),
  ];
  const withOptions = withStartupOptions(
    url,
    settings.map(([name, value]) => `-c ${name}=${value}`).join(' '),
  );
  const pool = new pg.Pool({ ...config, connectionString: withOptions ?? url });
  pool.on('error', onIdleError);
  if (withOptions === undefined) {
    // A connection string that is not a WHATWG URL (a socket path as the host, the key=value
    // form) cannot be given more options here: each new connection sets them instead.
    pool.on('connect', (client) => {
      client
        .query(settings.map(([name, value]) => `SET ${name} = ${value};`).join(' '))
        .catch(onIdleError);
    });
  }
  return pool;
};

/**
 * `url` with `settings` added to its `options` parameter (which node-postgres prefers to any
 * `options` given beside the URL); undefined when `url` is not a WHATWG URL.
 */
const withStartupOptions = (url: string, settings: string): string | undefined => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const given = parsed.searchParams.get('options');
  parsed.searchParams.set('options', given === null ? settings : `${given} ${settings}`);
  return parsed.toString();
};

/**
 * Takes a connection from the pool for several statements. A connection that breaks while taken
 * (the server stopping, the network cut) emits `error`, which would crash the process unheard:
 * it is heard here, and the statement in progress rejects with it anyway.
 */
export const takeClient = async (pool: PgPool): Promise<PgClient> => {
  const client = await pool.connect();
  client.on('error', ignoreTakenClientError);
  return client;
};

/** Gives a connection from {@link takeClient} back (destroyed when `broken` is given). */
export const giveBack = (client: PgClient, broken?: Error | boolean): void => {
  client.off('error', ignoreTakenClientError);
  client.release(broken);
};

const ignoreTakenClientError = (): void => undefined;

/**
 * Runs `body` in one transaction on one connection: committed when it resolves, rolled back when
 * it throws. A connection that failed mid-transaction is destroyed rather than returned.
 */
export const inTransaction = async <T>(
  pool: PgPool,
  body: (client: PgClient) => Promise<T>,
): Promise<T> => {
  const client = await takeClient(pool);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    giveBack(client, broken);
  }
};
