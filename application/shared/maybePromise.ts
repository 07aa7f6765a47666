/**
 * A value, or a promise of it: what a port answers when one implementation keeps its state in
 * the process (SQLite, memory) and another in a shared database (PostgreSQL, several nodes).
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Whether `value` is still to come. Callers on a hot path test this rather than `await` an
 * answer that is already there: an `await` costs a turn of the microtask queue even then, and
 * lets other requests run in between, which an in-process implementation never did.
 */
export const isPromise = <T>(value: MaybePromise<T>): value is Promise<T> =>
  typeof (value as { readonly then?: unknown } | null | undefined)?.then === 'function';

/**
 * Goes on with `next` at once when `value` is there, once it resolves when it is a promise: a
 * chain of in-process answers stays synchronous from end to end.
 */
export const andThen = <T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
): MaybePromise<U> => (isPromise(value) ? value.then(next) : next(value));
