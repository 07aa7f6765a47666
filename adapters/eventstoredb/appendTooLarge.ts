/**
 * An append bigger than EventStoreDB accepts in one write (its `MaxAppendSize`, 1 MiB unless the
 * server is configured otherwise). Thrown by `EsdbEventStore.appendToStream`, before anything is
 * sent when the adapter's own check finds it, or when the server refuses the append. Its `code`
 * is stable, so the HTTP layer can answer 413 for it instead of a generic 500.
 */
export class AppendTooLarge extends Error {
  /** The stable code of this failure. */
  readonly code = 'append_too_large';
  override readonly name = 'AppendTooLarge';

  constructor(
    /** The stream the append was for. */
    readonly stream: string,
    /** The append's size as the server counts it (see `appendSize`), in bytes. */
    readonly size: number,
    /** The largest append accepted, in bytes. */
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super(
      `append to ${stream} is too large for EventStoreDB: ${size} bytes, limit ${limit} bytes`,
      options,
    );
  }
}

/** True for an `AppendTooLarge`, also from another copy of this module (by its code). */
export const isAppendTooLarge = (error: unknown): error is AppendTooLarge =>
  error instanceof AppendTooLarge ||
  (error instanceof Error && (error as { code?: unknown }).code === 'append_too_large');
