/**
 * The port through which read models reach their database: the part of a synchronous SQL
 * connection that projections and their queries use. The embedded adapter's better-sqlite3
 * connection (the embedded SQLite adapter's) satisfies it as it is; projections never import a
 * concrete driver, so a test can hand them any connection of this shape.
 *
 * Statements are synchronous on purpose: a projection applies a batch of events and moves its
 * checkpoint inside one transaction, with nothing else interleaving.
 */

/** What running a writing statement reports. */
export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement with its bind parameters `P` and the shape `R` of a result row. */
export interface ReadModelStatement<P extends unknown[], R> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] so that every parameter list fits, as in the driver
export type TransactionBody = (...args: any[]) => unknown;

/** A function wrapped in a transaction: calling it runs the body all or nothing. */
export type Transactional<F extends TransactionBody> = (
  ...args: F extends (...args: infer A) => unknown ? A : never
) => ReturnType<F>;

/** A read-model database connection. */
export interface ReadModelDb {
  /** `P` lists the bind parameters (a tuple), or is one object of named parameters. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the driver's own form: `{}` stands for named parameters
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(
    sql: string,
  ): P extends unknown[] ? ReadModelStatement<P, R> : ReadModelStatement<[P], R>;
  /** Runs one or more statements that take no parameters (DDL). */
  exec(sql: string): unknown;
  /** Wraps `fn` so that each call runs in one transaction (nested calls become savepoints). */
  transaction<F extends TransactionBody>(fn: F): Transactional<F>;
}
